#pragma once
/// SeriesBrowser: the series of the open study (from workflow::listSeries) with description, image
/// count, slice thickness, and which series the analysis uses and why (or why a series is excluded).
/// Double-click (or Enter) asks for a series to be shown; the one shown is marked.
/// Limitations: no thumbnails.
#include <QString>
#include <QWidget>
#include <vector>

#include "workflow/StudyInfo.h"

class QLabel;
class QTreeWidget;

class SeriesBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit SeriesBrowser(QWidget* parent = nullptr);
  void setSeries(const QString& studyPath, std::vector<workflow::SeriesSummary> series);
  void setShownSeries(const QString& seriesUid);
  void clear();
  const std::vector<workflow::SeriesSummary>& series() const { return series_; }

 signals:
  void seriesActivated(const QString& seriesUid);

 private:
  QLabel* header_ = nullptr;
  QTreeWidget* tree_ = nullptr;
  std::vector<workflow::SeriesSummary> series_;
};
