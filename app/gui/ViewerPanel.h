#pragma once
/// ViewerPanel: the linked viewer of one CT series: axial, coronal and sagittal SliceViews (each with a
/// slice slider) and a VolumeView, in a 2x2 layout (or one view maximised). Keeps the views linked:
/// one crosshair cursor (a click in one view moves the others' slices), one window/level for the 2-D
/// views, one overlay layer on all views, one tool mode. Wiring only: measurements are computed by
/// workflow (RoiStatistics), rendering by the views.
///
///   auto* panel = new ViewerPanel(parent);
///   panel->setVolume(study.volume);
///   panel->setOverlay(heatmapOnCtGrid);          // e.g. Grad-CAM, one float per voxel
///   panel->jumpTo({-60.0, 20.0, -150.0});        // centre all views on an LPS point (mm)
///
/// Limitations: one series at a time; one ruler and one ROI per 2-D view.
#include <QElapsedTimer>
#include <QWidget>
#include <array>
#include <memory>
#include <vector>

#include "gui/ViewTypes.h"
#include "imaging/CtVolume.h"

class QGridLayout;
class QSlider;
class SliceView;
class VolumeView;

class ViewerPanel : public QWidget {
  Q_OBJECT
 public:
  /// Layouts: all four views, or one of them filling the panel.
  enum class Layout { Grid2x2 = 0, AxialOnly, CoronalOnly, SagittalOnly, VolumeOnly };

  explicit ViewerPanel(QWidget* parent = nullptr);
  ~ViewerPanel() override;

  void setVolume(std::shared_ptr<const imaging::CtVolume> volume);
  void clear();
  const std::shared_ptr<const imaging::CtVolume>& volume() const { return volume_; }

  void setWindowLevel(double window, double level);
  WindowLevel windowLevel() const { return windowLevel_; }
  void setToolMode(ToolMode mode);
  void setViewLayout(Layout layout);
  Layout viewLayout() const { return layout_; }

  /// Crosshair cursor (voxel index); moves every 2-D view to the planes through it.
  void setCrosshair(const VoxelIndex& ijk);
  VoxelIndex crosshair() const { return cursor_; }
  /// Moves the cursor to the LPS point (mm) and centres all 2-D views on it. Points outside the
  /// volume are clamped to its edge.
  void jumpTo(const std::array<double, 3>& lpsMm);

  /// Overlay on the CT grid (one float per voxel, CT memory order) on all views; throws
  /// std::invalid_argument when no volume is shown or the size differs from the volume's.
  void setOverlay(std::shared_ptr<const std::vector<float>> valuesOnCtGrid);
  void setOverlay(std::shared_ptr<const std::vector<float>> valuesOnCtGrid, const OverlayStyle& style);
  void clearOverlay();
  bool hasOverlay() const { return overlay_ != nullptr; }
  void setOverlayStyle(const OverlayStyle& style);
  void setOverlayOpacity(double opacity);
  void setOverlayThreshold(double threshold);
  void setOverlayVisible(bool visible);
  const OverlayStyle& overlayStyle() const { return overlayStyle_; }

  SliceView* axialView() const { return views_[2]; }
  SliceView* coronalView() const { return views_[1]; }
  SliceView* sagittalView() const { return views_[0]; }
  /// The 2-D view whose normal is voxel axis `axis` (0 sagittal, 1 coronal, 2 axial).
  SliceView* sliceView(int axis) const { return views_[axis]; }
  VolumeView* volumeView() const { return volumeView_; }

 signals:
  /// Text describing the voxel under the mouse ("i,j,k | LPS mm | HU"), empty when outside.
  void hoverText(const QString& text);
  void measurementText(const QString& text);
  void cursorChanged(const VoxelIndex& ijk);
  void windowLevelChanged(double window, double level);
  /// The axial view showed its first image after setVolume (ms since setVolume started).
  void firstImageShown(double ms);

 private:
  void onHovered(const VoxelIndex& ijk, bool inside);
  void onSliceChanged(int axis, int index);
  void ensureVolumeViewLoaded();

  std::shared_ptr<const imaging::CtVolume> volume_;
  std::shared_ptr<const std::vector<float>> overlay_;
  OverlayStyle overlayStyle_;
  std::array<SliceView*, 3> views_{};
  std::array<QSlider*, 3> sliders_{};
  std::array<QWidget*, 4> cells_{};  // sagittal, coronal, axial, 3-D
  VolumeView* volumeView_ = nullptr;
  QGridLayout* grid_ = nullptr;
  Layout layout_ = Layout::Grid2x2;
  VoxelIndex cursor_{0, 0, 0};
  WindowLevel windowLevel_;
  QElapsedTimer sinceSetVolume_;
  bool waitingForFirstImage_ = false;
  bool volumeViewLoaded_ = false;
};
