#pragma once
/// MainWindow: the workstation's main window. Wiring only: loading goes through workflow, viewing
/// through ViewerPanel (linked axial/coronal/sagittal/3-D views); no algorithm lives here. Menus and
/// toolbars: open folder/recent, tool mode (Navigate/Ruler/ROI), window presets (F1 lung, F2
/// mediastinum, F3 bone; values editable in the settings file), layout, overlay on/off, opacity,
/// threshold and colour map. Window geometry, layout, presets and overlay settings persist with
/// QSettings. Errors are shown as dialogs, never thrown through the event loop.
/// Analysis (Ctrl+R) runs out of process through AnalysisRunner; the result (heatmap overlay on all
/// views, ResultPanel dock) is bound to the study path + series it was computed on and cleared when
/// another study or series is shown. The SeriesBrowser dock lists the study's series and the
/// analysis's choice. Export writes the reports in process with workflow::writeReports.
/// File > Open Worklist reads a `medseek-cli screen` worklist (workflow::readWorklist) into the
/// Worklist dock; opening a row loads its study + series and shows the batch result (result.json,
/// without the heatmap overlay, which the batch does not keep) without rerunning the analysis.
#include <QJsonObject>
#include <QMainWindow>
#include <QString>
#include <memory>
#include <vector>

#include "workflow/Analysis.h"
#include "workflow/StudyLoading.h"

class QAction;
class QActionGroup;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QTimer;
class AnalysisRunner;
class ResultPanel;
class SeriesBrowser;
class ViewerPanel;
class WorklistPanel;
class QDockWidget;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Loads the study at `path` synchronously; returns false (and shows or logs the reason) on error.
  bool openPath(const QString& path, bool interactiveErrors = true);
  /// Shows another series of the open study (any series, eligible for the analysis or not).
  bool openSeries(const QString& seriesUid, bool interactiveErrors = true);
  const workflow::LoadedStudy* study() const { return study_.get(); }
  ViewerPanel* viewer() const { return viewer_; }
  ResultPanel* resultPanel() const { return resultPanel_; }
  SeriesBrowser* seriesBrowser() const { return seriesBrowser_; }
  WorklistPanel* worklistPanel() const { return worklistPanel_; }

  /// Reads the worklist (screening output folder or worklist.json) into the Worklist dock.
  bool openWorklist(const QString& path, bool interactiveErrors = true);
  /// Opens the study and series of worklist row `rank` and shows its batch result when there is one.
  /// False (reason shown or logged) when there is no such row or the study cannot be opened; a
  /// result.json that cannot be read only leaves the study without result (reason on the status bar).
  bool openWorklistRank(int rank, bool interactiveErrors = true);

  /// Errors of asynchronous work (analysis) go to dialogs (true) or stderr (false, scripted runs).
  void setInteractiveErrors(bool on) { interactiveErrors_ = on; }
  /// Starts the analysis of the series shown; false when none is shown or one is running.
  bool startAnalysis();
  void cancelAnalysis();
  bool analysisRunning() const;
  /// The result shown (bound to study()->path + seriesInstanceUid), or null.
  const workflow::AnalysisResult* result() const { return result_.get(); }
  /// Writes the reports of the result shown (with the reader's decision) into `outDir`.
  bool exportReports(const QString& outDir, bool interactiveErrors = true);
  /// What the window shows (study, series, result, decision, overlay), for tests and --dump-state.
  QJsonObject stateJson() const;

  /// Shows an overlay on the CT grid of the loaded study (e.g. a Grad-CAM heatmap) with the persisted
  /// opacity; returns false and reports the reason (dialog or stderr) when it does not fit.
  bool showOverlay(std::shared_ptr<const std::vector<float>> valuesOnCtGrid, bool interactiveErrors = true);
  void applyPreset(const QString& name);

 signals:
  /// The analysis ended: ok = a result is shown; otherwise `message` says why (error or cancel).
  void analysisEnded(bool ok, const QString& message);

 protected:
  void closeEvent(QCloseEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private slots:
  void chooseFolder();
  void chooseExportFolder();
  void chooseWorklist();

 private:
  void buildMenusAndToolbars();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  void updateOverlayControls();
  void reportError(const QString& title, const QString& text, bool interactive);
  bool load(const QString& path, const QString& seriesUid, bool interactiveErrors);
  void clearResult(const QString& message = {});
  void onAnalysisFinished(std::shared_ptr<const workflow::AnalysisResult> result);
  /// Shows a result that belongs to the study/series shown (overlay only when it has heatmap values).
  void showResult(std::shared_ptr<const workflow::AnalysisResult> result, double wallSeconds);
  void updateActions();

  ViewerPanel* viewer_ = nullptr;
  QLabel* hoverLabel_ = nullptr;
  QLabel* measurementLabel_ = nullptr;
  QLabel* studyLabel_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QCheckBox* overlayCheck_ = nullptr;
  QSlider* overlayOpacity_ = nullptr;
  QDoubleSpinBox* overlayThreshold_ = nullptr;
  QComboBox* overlayColormap_ = nullptr;
  std::unique_ptr<workflow::LoadedStudy> study_;
  QString studyPath_;
  AnalysisRunner* runner_ = nullptr;
  ResultPanel* resultPanel_ = nullptr;
  SeriesBrowser* seriesBrowser_ = nullptr;
  WorklistPanel* worklistPanel_ = nullptr;
  QDockWidget* worklistDock_ = nullptr;
  int openedRank_ = -1;   ///< worklist row of the study shown, -1: none
  QString resultSource_;  ///< "analysis" (worker run here) or "worklist" (batch result.json)
  QLabel* modelLabel_ = nullptr;
  QAction* analyzeAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QAction* exportAction_ = nullptr;
  QTimer* elapsedTimer_ = nullptr;
  QString stage_;
  QString analysedNote_;
  std::shared_ptr<const workflow::AnalysisResult> result_;
  bool interactiveErrors_ = true;
};
