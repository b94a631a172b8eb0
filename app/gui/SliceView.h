#pragma once
/// SliceView: one 2-D plane (axial, coronal or sagittal) of a CtVolume rendered by VTK inside
/// VtkOpenGLWidget, in radiological convention (patient right on screen left; axial: anterior up;
/// coronal: seen from the front, superior up; sagittal: seen from the patient's left, anterior on screen
/// left, superior up). Draws orientation labels, slice number/position, window/level, a crosshair,
/// one ruler and one circular ROI (statistics from workflow::computeRoiStatistics) and an optional
/// coloured overlay layer on the CT grid.
///
///   auto* axial = new SliceView(SliceOrientation::Axial, parent);
///   axial->setVolume(ct);                       // shared, not copied; middle slice, lung window
///   axial->setSlice(120); axial->setWindowLevel(350, 40);
///
/// Mouse: wheel = slice (ctrl: zoom), right drag = zoom, middle drag = pan, left = tool (Navigate:
/// click moves the crosshair, drag changes window/level; Ruler; ROI). Keys: Up/Down, PageUp/PageDown
/// (10 slices), Home/End, R resets zoom/pan, Esc clears measurements.
/// Limitations: the voxel grid is shown axis-aligned (direction cosines are used for labels and
/// coordinates, not for resampling), so oblique series appear in voxel order.
#include <QPoint>
#include <array>
#include <memory>
#include <vector>

#include "gui/ViewTypes.h"
#include "gui/VtkOpenGLWidget.h"
#include "imaging/CtVolume.h"

class SliceView : public VtkOpenGLWidget {
  Q_OBJECT
 public:
  explicit SliceView(SliceOrientation orientation = SliceOrientation::Axial, QWidget* parent = nullptr);
  ~SliceView() override;

  SliceOrientation orientation() const;
  /// Voxel axis normal to the plane (0 sagittal, 1 coronal, 2 axial).
  int normalAxis() const;

  /// Shows `volume` (kept alive by the shared pointer) at its middle slice, lung window, fitted.
  void setVolume(std::shared_ptr<const imaging::CtVolume> volume);
  void clear();
  void setSlice(int index);
  int slice() const;
  int sliceCount() const;
  void setWindowLevel(double window, double level);
  WindowLevel windowLevel() const;

  /// Crosshair position (the in-plane components are used; the slice is not changed).
  void setCrosshair(const VoxelIndex& ijk);
  void setCrosshairVisible(bool visible);
  /// Pans so that the continuous voxel index `ijk` is in the centre of the view.
  void centreOn(const std::array<double, 3>& ijk);
  /// Zoom 1 (volume fitted) and no pan.
  void resetView();
  void setZoom(double factor);
  double zoom() const;

  void setToolMode(ToolMode mode);
  ToolMode toolMode() const;
  void clearMeasurements();

  /// Shows `values` (one float per CT voxel, same order) as a coloured layer; throws
  /// std::invalid_argument when the size does not match the volume.
  void setOverlay(std::shared_ptr<const std::vector<float>> values, const OverlayStyle& style);
  void setOverlayStyle(const OverlayStyle& style);
  void clearOverlay();

  /// Continuous voxel index under a widget position (logical pixels) on the current slice.
  std::array<double, 3> ijkAt(const QPointF& widgetPos) const;
  /// Widget position (logical pixels) where the continuous voxel index `ijk` appears.
  QPointF widgetPosOf(const std::array<double, 3>& ijk) const;
  /// "R", "L", "A", "P", "S" or "I" at the left, right, top, bottom edges (for tests and labels).
  std::array<QString, 4> edgeLabels() const;

 signals:
  void sliceChanged(int index, int count);
  /// Left click in Navigate mode: the voxel under the mouse.
  void cursorPicked(const VoxelIndex& ijk);
  /// Mouse moved over the view (inside: the voxel is in the volume).
  void hovered(const VoxelIndex& ijk, bool inside);
  /// Window/level changed by a left drag.
  void windowLevelChanged(double window, double level);
  /// A ruler or ROI was drawn or cleared (text for the status bar; empty when cleared).
  void measurementChanged(const QString& text);

 protected:
  void resizeGL(int w, int h) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  void updateCamera();
  void updateCrosshair();
  void updateAnnotations();
  void updateMeasurementGeometry();
  void updateOverlayLookup();
};
