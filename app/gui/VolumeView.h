#pragma once
/// VolumeView: 3-D volume rendering of a CtVolume (vtkGPUVolumeRayCastMapper) inside
/// VtkOpenGLWidget, with an optional overlay layer rendered as a second, independently coloured
/// component. Seen from the front (patient right on screen left, superior up).
///
///   auto* view3d = new VolumeView(parent);
///   view3d->setVolume(ct);       // resampled to <= 160 voxels per side for interactive speed
///   view3d->setOverlay(heatmap, style);
///
/// Mouse: left drag rotates, right drag zooms, middle drag pans (VTK trackball camera); R resets.
/// Quality is lowered while a mouse button is down (coarser rays) and restored on release.
/// Limitations: the 3-D view shows a resampled copy (details below ~2-3 mm are lost); shading is off by
/// default (under llvmpipe it triples the render time); the volume is shown in voxel order (oblique
/// direction cosines are ignored, as in the 2-D views).
#include <memory>
#include <vector>

#include "gui/ViewTypes.h"
#include "gui/VtkOpenGLWidget.h"
#include "imaging/CtVolume.h"

class VolumeView : public VtkOpenGLWidget {
  Q_OBJECT
 public:
  explicit VolumeView(QWidget* parent = nullptr);
  ~VolumeView() override;

  /// Shows `volume` resampled to at most `maxVoxelsPerSide` per axis.
  void setVolume(std::shared_ptr<const imaging::CtVolume> volume, int maxVoxelsPerSide = 160);
  void clear();
  /// `values`: one float per CT voxel (same grid as the volume); throws std::invalid_argument otherwise.
  void setOverlay(std::shared_ptr<const std::vector<float>> values, const OverlayStyle& style);
  void setOverlayStyle(const OverlayStyle& style);
  void clearOverlay();
  void setShading(bool on);
  void resetCamera();
  /// Resampled grid size actually rendered (0,0,0 when empty).
  std::array<int, 3> renderedSize() const;

 protected:
  void keyPressEvent(QKeyEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  void rebuildInput();
  void updateTransferFunctions();
  void applyQuality();
};
