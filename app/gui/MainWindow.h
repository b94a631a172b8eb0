#pragma once
/// MainWindow: the workstation's main window. Wiring only: loading goes through workflow, viewing
/// through ViewerPanel (linked axial/coronal/sagittal/3-D views); no algorithm lives here. Menus and
/// toolbars: open folder/recent, tool mode (Navigate/Ruler/ROI), window presets (F1 lung, F2
/// mediastinum, F3 bone; values editable in the settings file), layout, overlay on/off, opacity,
/// threshold and colour map. Window geometry, layout, presets and overlay settings persist with
/// QSettings. Errors are shown as dialogs, never thrown through the event loop.
#include <QMainWindow>
#include <QString>
#include <memory>
#include <vector>

#include "workflow/StudyLoading.h"

class QAction;
class QActionGroup;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class ViewerPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Loads the study at `path` synchronously; returns false (and shows or logs the reason) on error.
  bool openPath(const QString& path, bool interactiveErrors = true);
  const workflow::LoadedStudy* study() const { return study_.get(); }
  ViewerPanel* viewer() const { return viewer_; }

  /// Shows an overlay on the CT grid of the loaded study (e.g. a Grad-CAM heatmap) with the persisted
  /// opacity; returns false and reports the reason (dialog or stderr) when it does not fit.
  bool showOverlay(std::shared_ptr<const std::vector<float>> valuesOnCtGrid, bool interactiveErrors = true);
  void applyPreset(const QString& name);

 protected:
  void closeEvent(QCloseEvent* e) override;

 private slots:
  void chooseFolder();

 private:
  void buildMenusAndToolbars();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  void updateOverlayControls();
  void reportError(const QString& title, const QString& text, bool interactive);

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
};
