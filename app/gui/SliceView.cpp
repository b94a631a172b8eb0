#include "gui/SliceView.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkCoordinate.h>
#include <vtkFloatArray.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkImageData.h>
#include <vtkImageProperty.h>
#include <vtkImageSlice.h>
#include <vtkImageSliceMapper.h>
#include <vtkLookupTable.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkShortArray.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gui/OverlayColors.h"
#include "workflow/RoiStatistics.h"

namespace {
using Vec3 = std::array<double, 3>;

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

/// Colour of each plane's crosshair line and title (index = normal axis): sagittal yellow, coronal
/// green, axial red (the 3D Slicer convention).
constexpr std::array<std::array<unsigned char, 3>, 3> kPlaneRgb{
    {{230, 200, 40}, {60, 200, 60}, {220, 60, 60}}};
const char* const kPlaneName[3] = {"Sagittal", "Coronal", "Axial"};

/// Letter of the patient direction an LPS vector points to most.
/// Sets a text actor's text only when it changed (a change means a new FreeType rendering).
void setText(vtkTextActor* actor, const QString& text) {
  const QByteArray utf8 = text.toUtf8();
  const char* old = actor->GetInput();
  if (old && utf8 == old) return;
  actor->SetInput(utf8.constData());
}

QString patientLetter(const Vec3& lps) {
  int a = 0;
  for (int c = 1; c < 3; ++c)
    if (std::abs(lps[c]) > std::abs(lps[a])) a = c;
  static const char* pos[3] = {"L", "P", "S"};
  static const char* neg[3] = {"R", "A", "I"};
  return QString::fromLatin1(lps[a] >= 0 ? pos[a] : neg[a]);
}

}  // namespace

struct SliceView::Impl {
  SliceOrientation orientation;
  int n = 2, u = 0, v = 1;  // normal axis, screen-horizontal and screen-vertical voxel axes
  Vec3 viewDir{0, 0, 1}, viewUp{0, -1, 0}, viewRight{1, 0, 0};

  std::shared_ptr<const imaging::CtVolume> volume;
  std::shared_ptr<const std::vector<float>> overlayValues;
  OverlayStyle overlayStyle;

  vtkNew<vtkImageData> image;
  vtkNew<vtkImageSliceMapper> mapper;
  vtkNew<vtkImageSlice> actor;
  vtkNew<vtkImageData> overlayImage;
  vtkNew<vtkImageSliceMapper> overlayMapper;
  vtkNew<vtkImageSlice> overlayActor;
  vtkNew<vtkLookupTable> overlayLut;
  vtkNew<vtkRenderer> renderer;      // layer 0: CT
  vtkNew<vtkRenderer> overlayLayer;  // layer 1: overlay, blended over the CT; shares the camera
  vtkNew<vtkRenderer> annotations;   // layer 2: crosshair, measurements, text; shares the camera

  vtkNew<vtkPolyData> crosshair;
  vtkNew<vtkActor> crosshairActor;
  vtkNew<vtkPolyData> ruler;
  vtkNew<vtkActor> rulerActor;
  vtkNew<vtkTextActor> rulerText;
  vtkNew<vtkPolyData> roi;
  vtkNew<vtkActor> roiActor;
  vtkNew<vtkTextActor> roiText;
  std::array<vtkSmartPointer<vtkTextActor>, 4> edge;  // left, right, top, bottom
  // Corner texts (upper left, lower left, lower right): plain vtkTextActors with a fixed font size.
  // vtkCornerAnnotation refits its font by re-rendering the text every frame, which cost ~300 ms per
  // frame under llvmpipe.
  std::array<vtkSmartPointer<vtkTextActor>, 3> corner;

  int slice = 0;
  VoxelIndex cursor{0, 0, 0};
  bool crosshairVisible = true;
  WindowLevel wl;
  double zoom = 1.0;
  Vec3 centre{0, 0, 0};  // world point at the view centre (normal component unused)
  ToolMode tool = ToolMode::Navigate;

  // Measurements (continuous voxel indices) and the slice they were made on (-1: none).
  int rulerSlice = -1;
  Vec3 rulerA{}, rulerB{};
  int roiSlice = -1;
  Vec3 roiCentre{};
  double roiRadiusMm = 0;

  // Mouse drag state.
  Qt::MouseButton dragButton = Qt::NoButton;
  QPointF pressPos;
  bool dragged = false;
  WindowLevel wlAtPress;
  double zoomAtPress = 1;
  Vec3 centreAtPress{};
  int wheelRemainder = 0;

  const imaging::VolumeGeometry& geometry() const { return volume->geometry(); }
  Vec3 worldFromIjk(const Vec3& ijk) const {
    const auto& g = geometry();
    return {g.originLps[0] + ijk[0] * g.spacingMm[0], g.originLps[1] + ijk[1] * g.spacingMm[1],
            g.originLps[2] + ijk[2] * g.spacingMm[2]};
  }
  Vec3 ijkFromWorld(const Vec3& w) const {
    const auto& g = geometry();
    return {(w[0] - g.originLps[0]) / g.spacingMm[0], (w[1] - g.originLps[1]) / g.spacingMm[1],
            (w[2] - g.originLps[2]) / g.spacingMm[2]};
  }
  Vec3 volumeCentreWorld() const {
    const auto& g = geometry();
    return worldFromIjk({(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0});
  }
  double planeWorld() const { return worldFromIjk({double(slice), double(slice), double(slice)})[n]; }
};

SliceView::SliceView(SliceOrientation orientation, QWidget* parent)
    : VtkOpenGLWidget(parent), impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  d.orientation = orientation;
  d.n = static_cast<int>(orientation);
  switch (orientation) {
    case SliceOrientation::Axial:  // from the feet, anterior up
      d.u = 0, d.v = 1, d.viewDir = {0, 0, 1}, d.viewUp = {0, -1, 0};
      d.mapper->SetOrientationToZ();
      d.overlayMapper->SetOrientationToZ();
      break;
    case SliceOrientation::Coronal:  // from the front, superior up
      d.u = 0, d.v = 2, d.viewDir = {0, 1, 0}, d.viewUp = {0, 0, 1};
      d.mapper->SetOrientationToY();
      d.overlayMapper->SetOrientationToY();
      break;
    case SliceOrientation::Sagittal:  // from the patient's left, anterior on screen left
      d.u = 1, d.v = 2, d.viewDir = {-1, 0, 0}, d.viewUp = {0, 0, 1};
      d.mapper->SetOrientationToX();
      d.overlayMapper->SetOrientationToX();
      break;
  }
  d.viewRight = cross(d.viewDir, d.viewUp);

  // Layers instead of vtkImageStack (RenderingImage is not among the project's VTK modules): a layer
  // keeps the colour of the ones below and clears only depth, so the overlay blends over the CT.
  renderWindow()->SetNumberOfLayers(3);
  d.renderer->SetBackground(0, 0, 0);
  d.renderer->SetBackgroundAlpha(1.0);  // the widget has an alpha channel: clear to opaque black
  d.renderer->SetLayer(0);
  d.overlayLayer->SetLayer(1);
  d.annotations->SetLayer(2);
  for (vtkRenderer* r : {d.overlayLayer.Get(), d.annotations.Get()}) {
    r->InteractiveOff();
    r->SetActiveCamera(d.renderer->GetActiveCamera());
  }
  renderWindow()->AddRenderer(d.renderer);
  renderWindow()->AddRenderer(d.overlayLayer);
  renderWindow()->AddRenderer(d.annotations);

  d.mapper->SetInputData(d.image);
  d.mapper->SliceAtFocalPointOff();
  d.mapper->SliceFacesCameraOff();
  d.actor->SetMapper(d.mapper);
  d.actor->GetProperty()->SetInterpolationTypeToLinear();

  d.overlayMapper->SetInputData(d.overlayImage);
  d.overlayMapper->SliceAtFocalPointOff();
  d.overlayMapper->SliceFacesCameraOff();
  d.overlayActor->SetMapper(d.overlayMapper);
  d.overlayActor->GetProperty()->SetInterpolationTypeToLinear();
  d.overlayActor->GetProperty()->SetLookupTable(d.overlayLut);
  d.overlayActor->GetProperty()->UseLookupTableScalarRangeOn();

  auto lineActor = [](vtkPolyData* data, vtkActor* actor) {
    vtkNew<vtkPolyDataMapper> m;
    m->SetInputData(data);
    actor->SetMapper(m);
    actor->GetProperty()->SetLineWidth(1.0);
    actor->GetProperty()->LightingOff();
  };
  lineActor(d.crosshair, d.crosshairActor);
  lineActor(d.ruler, d.rulerActor);
  lineActor(d.roi, d.roiActor);
  d.rulerActor->GetProperty()->SetColor(0.2, 0.9, 1.0);
  d.roiActor->GetProperty()->SetColor(1.0, 0.3, 1.0);
  for (auto* t : {d.rulerText.Get(), d.roiText.Get()}) {
    t->GetPositionCoordinate()->SetCoordinateSystemToWorld();
    t->GetTextProperty()->SetFontSize(13);
    t->GetTextProperty()->SetShadow(1);
    t->SetVisibility(0);
  }
  d.rulerText->GetTextProperty()->SetColor(0.2, 0.9, 1.0);
  d.roiText->GetTextProperty()->SetColor(1.0, 0.3, 1.0);
  d.rulerActor->SetVisibility(0);
  d.roiActor->SetVisibility(0);

  const double edgePos[4][2] = {{0.01, 0.5}, {0.99, 0.5}, {0.5, 0.99}, {0.5, 0.01}};
  for (int e = 0; e < 4; ++e) {
    auto label = vtkSmartPointer<vtkTextActor>::New();
    label->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    label->GetPositionCoordinate()->SetValue(edgePos[e][0], edgePos[e][1]);
    auto* tp = label->GetTextProperty();
    tp->SetFontSize(18);
    tp->BoldOn();
    tp->SetColor(1.0, 0.85, 0.3);
    tp->SetJustification(e == 0 ? VTK_TEXT_LEFT : (e == 1 ? VTK_TEXT_RIGHT : VTK_TEXT_CENTERED));
    tp->SetVerticalJustification(e == 2 ? VTK_TEXT_TOP : (e == 3 ? VTK_TEXT_BOTTOM : VTK_TEXT_CENTERED));
    d.edge[e] = label;
  }
  const double cornerPos[3][2] = {{0.01, 0.99}, {0.01, 0.01}, {0.99, 0.01}};
  for (int c = 0; c < 3; ++c) {
    auto text = vtkSmartPointer<vtkTextActor>::New();
    text->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    text->GetPositionCoordinate()->SetValue(cornerPos[c][0], cornerPos[c][1]);
    auto* tp = text->GetTextProperty();
    tp->SetFontSize(14);
    tp->SetShadow(1);
    tp->SetColor(0.9, 0.9, 0.9);
    tp->SetJustification(c == 2 ? VTK_TEXT_RIGHT : VTK_TEXT_LEFT);
    tp->SetVerticalJustification(c == 0 ? VTK_TEXT_TOP : VTK_TEXT_BOTTOM);
    d.corner[c] = text;
  }
  // The view title is drawn in the colour of its plane (the colour of its line in the other views).
  const auto& rgb = kPlaneRgb[d.n];
  d.corner[0]->GetTextProperty()->SetColor(rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
  setMinimumSize(200, 200);
}

SliceView::~SliceView() = default;

SliceOrientation SliceView::orientation() const {
  return impl_->orientation;
}
int SliceView::normalAxis() const {
  return impl_->n;
}
int SliceView::slice() const {
  return impl_->slice;
}
int SliceView::sliceCount() const {
  return impl_->volume ? impl_->geometry().size[impl_->n] : 0;
}
WindowLevel SliceView::windowLevel() const {
  return impl_->wl;
}
double SliceView::zoom() const {
  return impl_->zoom;
}
ToolMode SliceView::toolMode() const {
  return impl_->tool;
}

void SliceView::clear() {
  auto& d = *impl_;
  d.renderer->RemoveAllViewProps();
  d.overlayLayer->RemoveAllViewProps();
  d.annotations->RemoveAllViewProps();
  d.volume.reset();
  d.overlayValues.reset();
  d.rulerSlice = d.roiSlice = -1;
  update();
}

void SliceView::setVolume(std::shared_ptr<const imaging::CtVolume> volume) {
  clear();
  auto& d = *impl_;
  if (!volume || volume->empty()) return;
  d.volume = std::move(volume);
  const auto& g = d.geometry();
  d.image->SetDimensions(g.size[0], g.size[1], g.size[2]);
  d.image->SetSpacing(g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]);
  d.image->SetOrigin(g.originLps[0], g.originLps[1], g.originLps[2]);
  vtkNew<vtkShortArray> scalars;
  // Wrap the HU buffer without copying; the shared_ptr in Impl keeps it alive (save=1: VTK won't free).
  scalars->SetArray(const_cast<int16_t*>(d.volume->data()),
                    static_cast<vtkIdType>(d.volume->valuesHu().size()), 1);
  d.image->GetPointData()->SetScalars(scalars);
  d.image->Modified();
  d.renderer->AddViewProp(d.actor);
  d.annotations->AddViewProp(d.crosshairActor);
  d.annotations->AddViewProp(d.rulerActor);
  d.annotations->AddViewProp(d.rulerText);
  d.annotations->AddViewProp(d.roiActor);
  d.annotations->AddViewProp(d.roiText);
  for (auto& e : d.edge) d.annotations->AddViewProp(e);
  for (auto& c : d.corner) d.annotations->AddViewProp(c);
  d.cursor = {g.size[0] / 2, g.size[1] / 2, g.size[2] / 2};
  d.wl = {1500, -600};
  d.actor->GetProperty()->SetColorWindow(d.wl.window);
  d.actor->GetProperty()->SetColorLevel(d.wl.level);
  d.centre = d.volumeCentreWorld();
  d.zoom = 1.0;
  d.slice = -1;
  setSlice(g.size[d.n] / 2);
  updateCamera();
  updateCrosshair();
}

void SliceView::setWindowLevel(double window, double level) {
  auto& d = *impl_;
  d.wl = {std::max(1.0, window), level};
  d.actor->GetProperty()->SetColorWindow(d.wl.window);
  d.actor->GetProperty()->SetColorLevel(d.wl.level);
  updateAnnotations();
  update();
}

void SliceView::setSlice(int index) {
  auto& d = *impl_;
  if (!d.volume) return;
  index = std::clamp(index, 0, sliceCount() - 1);
  if (index == d.slice) return;
  d.slice = index;
  d.mapper->SetSliceNumber(index);
  d.overlayMapper->SetSliceNumber(index);
  updateCrosshair();
  updateMeasurementGeometry();
  updateAnnotations();
  emit sliceChanged(index, sliceCount());
  update();
}

void SliceView::setCrosshair(const VoxelIndex& ijk) {
  impl_->cursor = ijk;
  updateCrosshair();
  update();
}

void SliceView::setCrosshairVisible(bool visible) {
  impl_->crosshairVisible = visible;
  updateCrosshair();
  update();
}

void SliceView::centreOn(const std::array<double, 3>& ijk) {
  if (!impl_->volume) return;
  impl_->centre = impl_->worldFromIjk(ijk);
  updateCamera();
  update();
}

void SliceView::resetView() {
  if (!impl_->volume) return;
  impl_->zoom = 1.0;
  impl_->centre = impl_->volumeCentreWorld();
  updateCamera();
  update();
}

void SliceView::setZoom(double factor) {
  impl_->zoom = std::clamp(factor, 0.1, 50.0);
  updateCamera();
  updateAnnotations();
  update();
}

void SliceView::setToolMode(ToolMode mode) {
  impl_->tool = mode;
  QWidget::setCursor(mode == ToolMode::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
}

void SliceView::resizeGL(int w, int h) {
  VtkOpenGLWidget::resizeGL(w, h);
  updateCamera();
}

void SliceView::updateCamera() {
  auto& d = *impl_;
  if (!d.volume) return;
  const auto& g = d.geometry();
  const double extU = g.size[d.u] * g.spacingMm[d.u], extV = g.size[d.v] * g.spacingMm[d.v];
  const double aspect = height() > 0 ? double(width()) / height() : 1.0;
  const double fitScale = 0.5 * std::max(extV, extU / aspect) * 1.04;
  const double extent =
      std::max({g.size[0] * g.spacingMm[0], g.size[1] * g.spacingMm[1], g.size[2] * g.spacingMm[2]});
  const double distance = extent + 100.0;
  Vec3 focal = d.centre;
  focal[d.n] = d.volumeCentreWorld()[d.n];
  auto* cam = d.renderer->GetActiveCamera();
  cam->ParallelProjectionOn();
  cam->SetFocalPoint(focal.data());
  cam->SetPosition(focal[0] - d.viewDir[0] * distance, focal[1] - d.viewDir[1] * distance,
                   focal[2] - d.viewDir[2] * distance);
  cam->SetViewUp(d.viewUp.data());
  cam->SetParallelScale(fitScale / d.zoom);
  cam->SetClippingRange(distance - extent, distance + extent);
}

std::array<double, 3> SliceView::ijkAt(const QPointF& p) const {
  const auto& d = *impl_;
  if (!d.volume || height() <= 0) return {0, 0, 0};
  auto* cam = d.renderer->GetActiveCamera();
  const double pixel = 2.0 * cam->GetParallelScale() / height();
  double f[3];
  cam->GetFocalPoint(f);
  const double dx = (p.x() - width() / 2.0) * pixel, dy = (height() / 2.0 - p.y()) * pixel;
  Vec3 w{f[0] + d.viewRight[0] * dx + d.viewUp[0] * dy, f[1] + d.viewRight[1] * dx + d.viewUp[1] * dy,
         f[2] + d.viewRight[2] * dx + d.viewUp[2] * dy};
  Vec3 ijk = d.ijkFromWorld(w);
  ijk[d.n] = d.slice;
  return ijk;
}

QPointF SliceView::widgetPosOf(const std::array<double, 3>& ijk) const {
  const auto& d = *impl_;
  if (!d.volume || height() <= 0) return {};
  auto* cam = d.renderer->GetActiveCamera();
  const double pixel = 2.0 * cam->GetParallelScale() / height();
  double f[3];
  cam->GetFocalPoint(f);
  const Vec3 w = d.worldFromIjk(ijk);
  const Vec3 r{w[0] - f[0], w[1] - f[1], w[2] - f[2]};
  const double dx = r[0] * d.viewRight[0] + r[1] * d.viewRight[1] + r[2] * d.viewRight[2];
  const double dy = r[0] * d.viewUp[0] + r[1] * d.viewUp[1] + r[2] * d.viewUp[2];
  return {width() / 2.0 + dx / pixel, height() / 2.0 - dy / pixel};
}

std::array<QString, 4> SliceView::edgeLabels() const {
  const auto& d = *impl_;
  // Screen directions in voxel-world axes, mapped to LPS through the direction cosines.
  imaging::VolumeGeometry identity;
  const auto& dir = d.volume ? d.geometry().directionLps : identity.directionLps;
  auto toLps = [&dir](const Vec3& a) {
    Vec3 r{};
    for (int row = 0; row < 3; ++row)
      for (int c = 0; c < 3; ++c) r[row] += dir[row * 3 + c] * a[c];
    return r;
  };
  const Vec3 right = toLps(d.viewRight), up = toLps(d.viewUp);
  const Vec3 left{-right[0], -right[1], -right[2]}, down{-up[0], -up[1], -up[2]};
  return {patientLetter(left), patientLetter(right), patientLetter(up), patientLetter(down)};
}

void SliceView::updateCrosshair() {
  auto& d = *impl_;
  if (!d.volume) return;
  const auto& g = d.geometry();
  const double plane = d.planeWorld();
  vtkNew<vtkPoints> pts;
  vtkNew<vtkCellArray> lines;
  vtkNew<vtkUnsignedCharArray> colours;
  colours->SetNumberOfComponents(3);
  // One line at constant u (the plane normal to u) and one at constant v, spanning the volume.
  for (int fixed : {d.u, d.v}) {
    const int along = fixed == d.u ? d.v : d.u;
    Vec3 a{}, b{};
    a[fixed] = b[fixed] = d.cursor[fixed];
    a[along] = -0.5;
    b[along] = g.size[along] - 0.5;
    Vec3 wa = d.worldFromIjk(a), wb = d.worldFromIjk(b);
    wa[d.n] = wb[d.n] = plane;
    const vtkIdType ids[2] = {pts->InsertNextPoint(wa.data()), pts->InsertNextPoint(wb.data())};
    lines->InsertNextCell(2, ids);
    colours->InsertNextTypedTuple(kPlaneRgb[fixed].data());
  }
  d.crosshair->SetPoints(pts);
  d.crosshair->SetLines(lines);
  d.crosshair->GetCellData()->SetScalars(colours);
  d.crosshair->Modified();
  d.crosshairActor->SetVisibility(d.crosshairVisible ? 1 : 0);
  updateAnnotations();
}

void SliceView::updateAnnotations() {
  auto& d = *impl_;
  if (!d.volume) return;
  const auto labels = edgeLabels();
  for (int e = 0; e < 4; ++e) setText(d.edge[e], labels[e]);
  const auto& g = d.geometry();
  Vec3 centreIjk{(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0};
  centreIjk[d.n] = d.slice;
  const auto lps = g.lpsFromIjk(centreIjk);
  static const char* axisName[3] = {"x", "y", "z"};
  // Position of the plane along the LPS axis its normal is closest to.
  Vec3 normalLps{g.directionLps[0 * 3 + d.n], g.directionLps[1 * 3 + d.n], g.directionLps[2 * 3 + d.n]};
  int a = 0;
  for (int c = 1; c < 3; ++c)
    if (std::abs(normalLps[c]) > std::abs(normalLps[a])) a = c;
  const QString upperLeft = QStringLiteral("%1\nSlice %2 / %3\n%4 = %5 mm")
                                .arg(QString::fromLatin1(kPlaneName[d.n]))
                                .arg(d.slice + 1)
                                .arg(sliceCount())
                                .arg(QString::fromLatin1(axisName[a]))
                                .arg(lps[a], 0, 'f', 1);
  setText(d.corner[0], upperLeft);
  const QString lowerLeft =
      QStringLiteral("W %1  L %2").arg(d.wl.window, 0, 'f', 0).arg(d.wl.level, 0, 'f', 0);
  setText(d.corner[1], lowerLeft);
  const QString lowerRight =
      std::abs(d.zoom - 1.0) > 1e-3 ? QStringLiteral("zoom %1x").arg(d.zoom, 0, 'f', 2) : QString();
  setText(d.corner[2], lowerRight);
}

void SliceView::updateMeasurementGeometry() {
  auto& d = *impl_;
  if (!d.volume) return;
  const double plane = d.planeWorld();
  const bool showRuler = d.rulerSlice == d.slice;
  d.rulerActor->SetVisibility(showRuler);
  d.rulerText->SetVisibility(showRuler);
  if (showRuler) {
    Vec3 a = d.worldFromIjk(d.rulerA), b = d.worldFromIjk(d.rulerB);
    a[d.n] = b[d.n] = plane;
    vtkNew<vtkPoints> pts;
    pts->InsertNextPoint(a.data());
    pts->InsertNextPoint(b.data());
    vtkNew<vtkCellArray> lines;
    const vtkIdType ids[2] = {0, 1};
    lines->InsertNextCell(2, ids);
    d.ruler->SetPoints(pts);
    d.ruler->SetLines(lines);
    d.ruler->Modified();
    const double mm = workflow::distanceMm(d.geometry(), d.rulerA, d.rulerB);
    d.rulerText->SetInput(QStringLiteral("%1 mm").arg(mm, 0, 'f', 1).toUtf8().constData());
    d.rulerText->GetPositionCoordinate()->SetValue(b[0], b[1], b[2]);
  }
  const bool showRoi = d.roiSlice == d.slice;
  d.roiActor->SetVisibility(showRoi);
  d.roiText->SetVisibility(showRoi);
  if (showRoi) {
    const Vec3 c = d.worldFromIjk(d.roiCentre);
    vtkNew<vtkPoints> pts;
    vtkNew<vtkCellArray> lines;
    const int segments = 72;
    for (int s = 0; s < segments; ++s) {
      const double t = 2 * M_PI * s / segments;
      Vec3 p = c;
      for (int k = 0; k < 3; ++k)
        p[k] += d.roiRadiusMm * (std::cos(t) * d.viewRight[k] + std::sin(t) * d.viewUp[k]);
      p[d.n] = plane;
      pts->InsertNextPoint(p.data());
    }
    lines->InsertNextCell(segments + 1);
    for (int s = 0; s <= segments; ++s) lines->InsertCellPoint(s % segments);
    d.roi->SetPoints(pts);
    d.roi->SetLines(lines);
    d.roi->Modified();
    Vec3 textPos = c;
    for (int k = 0; k < 3; ++k) textPos[k] += d.roiRadiusMm * 1.05 * d.viewRight[k];
    textPos[d.n] = plane;
    d.roiText->GetPositionCoordinate()->SetValue(textPos[0], textPos[1], textPos[2]);
  }
}

void SliceView::clearMeasurements() {
  impl_->rulerSlice = impl_->roiSlice = -1;
  updateMeasurementGeometry();
  emit measurementChanged(QString());
  update();
}

void SliceView::setOverlay(std::shared_ptr<const std::vector<float>> values, const OverlayStyle& style) {
  auto& d = *impl_;
  if (!d.volume) throw std::invalid_argument("overlay: no volume is shown");
  if (!values || values->size() != d.volume->valuesHu().size())
    throw std::invalid_argument("overlay has " + std::to_string(values ? values->size() : 0) +
                                " values but the CT volume has " +
                                std::to_string(d.volume->valuesHu().size()) + " voxels");
  d.overlayValues = std::move(values);
  const auto& g = d.geometry();
  d.overlayImage->SetDimensions(g.size[0], g.size[1], g.size[2]);
  d.overlayImage->SetSpacing(g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]);
  d.overlayImage->SetOrigin(g.originLps[0], g.originLps[1], g.originLps[2]);
  vtkNew<vtkFloatArray> scalars;
  scalars->SetArray(const_cast<float*>(d.overlayValues->data()),
                    static_cast<vtkIdType>(d.overlayValues->size()), 1);
  d.overlayImage->GetPointData()->SetScalars(scalars);
  d.overlayImage->Modified();
  d.overlayMapper->SetSliceNumber(d.slice);
  if (!d.overlayLayer->HasViewProp(d.overlayActor)) d.overlayLayer->AddViewProp(d.overlayActor);
  setOverlayStyle(style);
}

void SliceView::setOverlayStyle(const OverlayStyle& style) {
  impl_->overlayStyle = style;
  updateOverlayLookup();
  update();
}

void SliceView::clearOverlay() {
  auto& d = *impl_;
  d.overlayLayer->RemoveViewProp(d.overlayActor);
  d.overlayImage->GetPointData()->SetScalars(nullptr);
  d.overlayValues.reset();
  update();
}

void SliceView::updateOverlayLookup() {
  auto& d = *impl_;
  const auto& s = d.overlayStyle;
  double top = s.rangeMax;
  if (std::isnan(top) && d.overlayValues && !d.overlayValues->empty())
    top = *std::max_element(d.overlayValues->begin(), d.overlayValues->end());
  if (std::isnan(top) || top <= s.threshold) top = s.threshold + 1e-6;
  auto& lut = d.overlayLut;
  const int n = 256;
  lut->SetNumberOfTableValues(n);
  lut->SetTableRange(s.threshold, top);
  for (int i = 0; i < n; ++i) {
    const auto rgb = overlayRgb(s.colormap, double(i) / (n - 1));
    lut->SetTableValue(i, rgb[0], rgb[1], rgb[2], 1.0);
  }
  lut->SetBelowRangeColor(0, 0, 0, 0);
  lut->UseBelowRangeColorOn();
  lut->SetNanColor(0, 0, 0, 0);
  lut->BuildSpecialColors();
  lut->Modified();
  d.overlayActor->GetProperty()->SetOpacity(std::clamp(s.opacity, 0.0, 1.0));
  d.overlayActor->SetVisibility(s.visible && d.overlayValues ? 1 : 0);
}

// ---- interaction -----------------------------------------------------------------------------------

void SliceView::mousePressEvent(QMouseEvent* e) {
  auto& d = *impl_;
  setFocus(Qt::MouseFocusReason);
  if (!d.volume || d.dragButton != Qt::NoButton) return;
  d.dragButton = e->button();
  d.pressPos = e->position();
  d.dragged = false;
  d.wlAtPress = d.wl;
  d.zoomAtPress = d.zoom;
  d.centreAtPress = d.centre;
  if (e->button() == Qt::LeftButton && d.tool != ToolMode::Navigate) {
    const Vec3 ijk = ijkAt(e->position());
    if (d.tool == ToolMode::Ruler) {
      d.rulerSlice = d.slice;
      d.rulerA = d.rulerB = ijk;
    } else {
      d.roiSlice = d.slice;
      d.roiCentre = ijk;
      d.roiRadiusMm = 0;
    }
    updateMeasurementGeometry();
    update();
  }
  e->accept();
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
  auto& d = *impl_;
  if (!d.volume) return;
  const Vec3 ijk = ijkAt(e->position());
  const VoxelIndex voxel{int(std::lround(ijk[0])), int(std::lround(ijk[1])), int(std::lround(ijk[2]))};
  emit hovered(voxel, d.volume->contains(voxel[0], voxel[1], voxel[2]));
  if (d.dragButton == Qt::NoButton) return;
  const QPointF delta = e->position() - d.pressPos;
  if (std::abs(delta.x()) + std::abs(delta.y()) > 3) d.dragged = true;
  if (!d.dragged) return;
  const double pixel = 2.0 * d.renderer->GetActiveCamera()->GetParallelScale() / std::max(1, height());
  switch (d.dragButton) {
    case Qt::LeftButton:
      if (d.tool == ToolMode::Navigate) {
        const double sensitivity = std::max(d.wlAtPress.window, 20.0) / 300.0;
        setWindowLevel(d.wlAtPress.window + delta.x() * sensitivity,
                       d.wlAtPress.level - delta.y() * sensitivity);
        emit windowLevelChanged(d.wl.window, d.wl.level);
      } else if (d.tool == ToolMode::Ruler) {
        d.rulerB = ijk;
        updateMeasurementGeometry();
      } else {
        const Vec3 c = d.worldFromIjk(d.roiCentre), p = d.worldFromIjk(ijk);
        d.roiRadiusMm = std::sqrt((c[0] - p[0]) * (c[0] - p[0]) + (c[1] - p[1]) * (c[1] - p[1]) +
                                  (c[2] - p[2]) * (c[2] - p[2]));
        updateMeasurementGeometry();
      }
      break;
    case Qt::RightButton:
      setZoom(d.zoomAtPress * std::exp(-delta.y() / 200.0));
      break;
    case Qt::MiddleButton:
      for (int k = 0; k < 3; ++k)
        d.centre[k] =
            d.centreAtPress[k] - d.viewRight[k] * delta.x() * pixel + d.viewUp[k] * delta.y() * pixel;
      updateCamera();
      break;
    default:
      break;
  }
  update();
}

void SliceView::mouseReleaseEvent(QMouseEvent* e) {
  auto& d = *impl_;
  if (e->button() != d.dragButton) return;
  d.dragButton = Qt::NoButton;
  if (!d.volume) return;
  const Vec3 ijk = ijkAt(e->position());
  if (e->button() == Qt::LeftButton) {
    if (d.tool == ToolMode::Navigate && !d.dragged) {
      const auto& g = d.geometry();
      VoxelIndex voxel{};
      for (int k = 0; k < 3; ++k) voxel[k] = std::clamp(int(std::lround(ijk[k])), 0, g.size[k] - 1);
      emit cursorPicked(voxel);
    } else if (d.tool == ToolMode::Ruler) {
      d.rulerB = ijk;
      updateMeasurementGeometry();
      const double mm = workflow::distanceMm(d.geometry(), d.rulerA, d.rulerB);
      emit measurementChanged(tr("Distance %1 mm").arg(mm, 0, 'f', 1));
    } else if (d.tool == ToolMode::Roi) {
      workflow::CircleRoi roi;
      roi.normalAxis = d.n;
      roi.slice = d.slice;
      roi.centreIjk = d.roiCentre;
      roi.radiusMm = d.roiRadiusMm;
      const auto s = workflow::computeRoiStatistics(*d.volume, roi);
      d.roiText->SetInput(QStringLiteral("mean %1 HU\nSD %2\nmin %3  max %4\narea %5 mm2")
                              .arg(s.meanHu, 0, 'f', 1)
                              .arg(s.sdHu, 0, 'f', 1)
                              .arg(s.minHu)
                              .arg(s.maxHu)
                              .arg(s.areaMm2, 0, 'f', 1)
                              .toUtf8()
                              .constData());
      emit measurementChanged(tr("ROI: mean %1 HU, SD %2, min %3, max %4, area %5 mm² (%6 voxels)")
                                  .arg(s.meanHu, 0, 'f', 1)
                                  .arg(s.sdHu, 0, 'f', 1)
                                  .arg(s.minHu)
                                  .arg(s.maxHu)
                                  .arg(s.areaMm2, 0, 'f', 1)
                                  .arg(s.voxelCount));
    }
    update();
  }
  e->accept();
}

void SliceView::wheelEvent(QWheelEvent* e) {
  auto& d = *impl_;
  d.wheelRemainder += e->angleDelta().y();
  const int steps = d.wheelRemainder / 120;
  d.wheelRemainder -= steps * 120;
  if (steps != 0) {
    if (e->modifiers() & Qt::ControlModifier)
      setZoom(d.zoom * std::pow(1.15, steps));
    else
      setSlice(d.slice + steps);
  }
  e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e) {
  switch (e->key()) {
    case Qt::Key_Up:
      setSlice(impl_->slice + 1);
      break;
    case Qt::Key_Down:
      setSlice(impl_->slice - 1);
      break;
    case Qt::Key_PageUp:
      setSlice(impl_->slice + 10);
      break;
    case Qt::Key_PageDown:
      setSlice(impl_->slice - 10);
      break;
    case Qt::Key_Home:
      setSlice(0);
      break;
    case Qt::Key_End:
      setSlice(sliceCount() - 1);
      break;
    case Qt::Key_R:
      resetView();
      break;
    case Qt::Key_Escape:
      clearMeasurements();
      break;
    default:
      // Not forwarded to VTK: its default key bindings (wireframe, quit, ...) make no sense here.
      QOpenGLWidget::keyPressEvent(e);
      return;
  }
  e->accept();
}
