#pragma once
/// SeriesBrowser: the series of the open study (from workflow::listSeries) with description, image
/// count, slice thickness, and which series the analysis uses and why (or why a series is excluded).
/// Double-click (or Enter) asks for a series to be shown; the one shown is marked.
/// Each series gets a thumbnail of its middle instance (lung window), rendered by
/// imaging::renderSliceThumbnail on a private thread pool; when it cannot be rendered the row shows
/// no icon and the reason in the tooltip of the first column.
#include <QImage>
#include <QString>
#include <QThreadPool>
#include <QWidget>
#include <vector>

#include "workflow/StudyInfo.h"

class QLabel;
class QTreeWidget;

class SeriesBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit SeriesBrowser(QWidget* parent = nullptr);
  ~SeriesBrowser() override;
  void setSeries(const QString& studyPath, std::vector<workflow::SeriesSummary> series);
  void setShownSeries(const QString& seriesUid);
  void clear();
  const std::vector<workflow::SeriesSummary>& series() const { return series_; }
  /// Thumbnails shown / failed so far (for tests and --dump-state).
  int thumbnailsShown() const { return thumbnailsShown_; }
  int thumbnailsFailed() const { return thumbnailsFailed_; }
  /// Waits until the thumbnails of the current series list are rendered (tests, scripted runs).
  void waitForThumbnails();

 signals:
  void seriesActivated(const QString& seriesUid);

 private:
  QLabel* header_ = nullptr;
  QTreeWidget* tree_ = nullptr;
  void thumbnailReady(int generation, const QString& uid, const QImage& image, const QString& error);

  std::vector<workflow::SeriesSummary> series_;
  QThreadPool pool_;
  int generation_ = 0;
  int thumbnailsShown_ = 0, thumbnailsFailed_ = 0;
};
