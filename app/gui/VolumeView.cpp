#include "gui/VolumeView.h"

#include <vtkCamera.h>
#include <vtkColorTransferFunction.h>
#include <vtkFloatArray.h>
#include <vtkGPUVolumeRayCastMapper.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkImageAppendComponents.h>
#include <vtkImageCast.h>
#include <vtkImageData.h>
#include <vtkImageResample.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkPiecewiseFunction.h>
#include <vtkPointData.h>
#include <vtkRenderer.h>
#include <vtkShortArray.h>
#include <vtkVolume.h>
#include <vtkVolumeProperty.h>

#include <QKeyEvent>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gui/OverlayColors.h"

struct VolumeView::Impl {
  std::shared_ptr<const imaging::CtVolume> volume;
  std::shared_ptr<const std::vector<float>> overlayValues;
  OverlayStyle overlayStyle;
  double overlayTop = 1.0;
  int maxSide = 160;

  vtkNew<vtkImageData> ctImage;       // wraps the CT buffer
  vtkNew<vtkImageData> overlayImage;  // wraps the overlay buffer
  vtkSmartPointer<vtkImageData> rendered;
  vtkNew<vtkGPUVolumeRayCastMapper> mapper;
  vtkNew<vtkVolume> actor;
  vtkNew<vtkVolumeProperty> property;
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  bool shading = false;
  bool interacting = false;  // a mouse button is down: render faster and coarser
};

VolumeView::VolumeView(QWidget* parent) : VtkOpenGLWidget(parent), impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  d.renderer->SetBackground(0.05, 0.05, 0.08);
  d.renderer->SetBackgroundAlpha(1.0);  // the widget has an alpha channel: clear to opaque
  renderWindow()->AddRenderer(d.renderer);
  interactor()->SetInteractorStyle(d.style);
  d.mapper->SetBlendModeToComposite();
  d.actor->SetMapper(d.mapper);
  d.actor->SetProperty(d.property);
  d.property->SetInterpolationTypeToLinear();
  d.property->ShadeOff();
  setMinimumSize(200, 200);
}

VolumeView::~VolumeView() = default;

std::array<int, 3> VolumeView::renderedSize() const {
  std::array<int, 3> s{0, 0, 0};
  if (impl_->rendered) impl_->rendered->GetDimensions(s.data());
  return s;
}

void VolumeView::clear() {
  impl_->renderer->RemoveAllViewProps();
  impl_->volume.reset();
  impl_->overlayValues.reset();
  impl_->rendered = nullptr;
  update();
}

void VolumeView::setVolume(std::shared_ptr<const imaging::CtVolume> volume, int maxVoxelsPerSide) {
  clear();
  auto& d = *impl_;
  if (!volume || volume->empty()) return;
  d.volume = std::move(volume);
  d.maxSide = std::max(8, maxVoxelsPerSide);
  const auto& g = d.volume->geometry();
  d.ctImage->SetDimensions(g.size[0], g.size[1], g.size[2]);
  d.ctImage->SetSpacing(g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]);
  d.ctImage->SetOrigin(g.originLps[0], g.originLps[1], g.originLps[2]);
  vtkNew<vtkShortArray> scalars;
  scalars->SetArray(const_cast<int16_t*>(d.volume->data()),
                    static_cast<vtkIdType>(d.volume->valuesHu().size()), 1);
  d.ctImage->GetPointData()->SetScalars(scalars);
  d.ctImage->Modified();
  rebuildInput();
  d.renderer->AddVolume(d.actor);
  resetCamera();
}

void VolumeView::rebuildInput() {
  auto& d = *impl_;
  if (!d.volume) return;
  const auto& g = d.volume->geometry();
  auto resampled = [&](vtkImageData* in) {
    vtkNew<vtkImageResample> r;
    r->SetInputData(in);
    for (int a = 0; a < 3; ++a)
      r->SetAxisMagnificationFactor(a, std::min(1.0, double(d.maxSide) / g.size[a]));
    r->SetInterpolationModeToLinear();
    r->Update();
    vtkSmartPointer<vtkImageData> out = r->GetOutput();
    return out;
  };
  vtkSmartPointer<vtkImageData> ct = resampled(d.ctImage);
  if (!d.overlayValues) {
    d.rendered = ct;
    d.property->IndependentComponentsOn();
  } else {
    // Two independent components (CT, overlay) of one float image: each gets its own transfer functions.
    vtkNew<vtkImageCast> cast;
    cast->SetInputData(ct);
    cast->SetOutputScalarTypeToFloat();
    vtkNew<vtkImageAppendComponents> append;
    append->AddInputConnection(cast->GetOutputPort());
    append->AddInputData(resampled(d.overlayImage));
    append->Update();
    d.rendered = append->GetOutput();
    d.property->IndependentComponentsOn();
  }
  d.mapper->SetInputData(d.rendered);
  applyQuality();
  updateTransferFunctions();
}

void VolumeView::updateTransferFunctions() {
  auto& d = *impl_;
  // CT: faint soft tissue/skin, bone bright; lungs and air transparent.
  vtkNew<vtkColorTransferFunction> ctColour;
  ctColour->AddRGBPoint(-1024, 0.0, 0.0, 0.0);
  ctColour->AddRGBPoint(-300, 0.55, 0.3, 0.2);
  ctColour->AddRGBPoint(40, 0.85, 0.55, 0.45);
  ctColour->AddRGBPoint(250, 1.0, 0.9, 0.75);
  ctColour->AddRGBPoint(1200, 1.0, 1.0, 1.0);
  vtkNew<vtkPiecewiseFunction> ctOpacity;
  ctOpacity->AddPoint(-1024, 0.0);
  ctOpacity->AddPoint(-400, 0.0);
  ctOpacity->AddPoint(-150, 0.01);
  ctOpacity->AddPoint(100, 0.02);
  ctOpacity->AddPoint(180, 0.0);
  ctOpacity->AddPoint(200, 0.25);
  ctOpacity->AddPoint(1000, 0.8);
  d.property->SetColor(0, ctColour);
  d.property->SetScalarOpacity(0, ctOpacity);
  d.property->SetScalarOpacityUnitDistance(0, 2.0);
  d.property->SetShade(d.shading ? 1 : 0);
  d.actor->SetVisibility(1);
  if (!d.overlayValues) return;
  const auto& s = d.overlayStyle;
  const double lo = s.threshold, hi = std::max(d.overlayTop, lo + 1e-6);
  vtkNew<vtkColorTransferFunction> colour;
  vtkNew<vtkPiecewiseFunction> opacity;
  for (int i = 0; i <= 8; ++i) {
    const double t = i / 8.0;
    const auto rgb = overlayRgb(s.colormap, t);
    colour->AddRGBPoint(lo + t * (hi - lo), rgb[0], rgb[1], rgb[2]);
  }
  const double alpha = s.visible ? std::clamp(s.opacity, 0.0, 1.0) : 0.0;
  opacity->AddPoint(std::min(lo - 1e-3, lo - 1e-3 * std::abs(lo)), 0.0);
  opacity->AddPoint(lo, 0.15 * alpha);
  opacity->AddPoint(hi, alpha);
  d.property->SetColor(1, colour);
  d.property->SetScalarOpacity(1, opacity);
  d.property->SetScalarOpacityUnitDistance(1, 2.0);
  d.property->SetShade(1, d.shading ? 1 : 0);
}

void VolumeView::setOverlay(std::shared_ptr<const std::vector<float>> values, const OverlayStyle& style) {
  auto& d = *impl_;
  if (!d.volume) throw std::invalid_argument("overlay: no volume is shown");
  if (!values || values->size() != d.volume->valuesHu().size())
    throw std::invalid_argument("overlay has " + std::to_string(values ? values->size() : 0) +
                                " values but the CT volume has " +
                                std::to_string(d.volume->valuesHu().size()) + " voxels");
  d.overlayValues = std::move(values);
  d.overlayStyle = style;
  d.overlayTop = std::isnan(style.rangeMax)
                     ? *std::max_element(d.overlayValues->begin(), d.overlayValues->end())
                     : style.rangeMax;
  const auto& g = d.volume->geometry();
  d.overlayImage->SetDimensions(g.size[0], g.size[1], g.size[2]);
  d.overlayImage->SetSpacing(g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]);
  d.overlayImage->SetOrigin(g.originLps[0], g.originLps[1], g.originLps[2]);
  vtkNew<vtkFloatArray> scalars;
  scalars->SetArray(const_cast<float*>(d.overlayValues->data()),
                    static_cast<vtkIdType>(d.overlayValues->size()), 1);
  d.overlayImage->GetPointData()->SetScalars(scalars);
  d.overlayImage->Modified();
  rebuildInput();
  update();
}

void VolumeView::setOverlayStyle(const OverlayStyle& style) {
  auto& d = *impl_;
  d.overlayStyle = style;
  if (d.overlayValues && !std::isnan(style.rangeMax)) d.overlayTop = style.rangeMax;
  updateTransferFunctions();
  update();
}

void VolumeView::clearOverlay() {
  auto& d = *impl_;
  if (!d.overlayValues) return;
  d.overlayValues.reset();
  d.overlayImage->GetPointData()->SetScalars(nullptr);
  rebuildInput();
  update();
}

void VolumeView::setShading(bool on) {
  impl_->shading = on;
  updateTransferFunctions();
  update();
}

void VolumeView::resetCamera() {
  auto& d = *impl_;
  if (!d.rendered) return;
  double c[3];
  d.rendered->GetCenter(c);
  auto* cam = d.renderer->GetActiveCamera();
  // From the front: camera anterior (-y in LPS) looking posterior, superior up.
  cam->SetFocalPoint(c);
  cam->SetPosition(c[0], c[1] - 1000.0, c[2]);
  cam->SetViewUp(0, 0, 1);
  d.renderer->ResetCamera();
  cam->Zoom(1.2);
  update();
}

void VolumeView::applyQuality() {
  auto& d = *impl_;
  if (!d.rendered) return;
  double sp[3];
  d.rendered->GetSpacing(sp);
  // Measured under llvmpipe (2 cores, 584x463 view, 160^3): full quality 650 ms per frame, still
  // quality (1 sample per voxel, rays on every 1.5th pixel) 320 ms, interaction quality 70 ms.
  d.mapper->SetAutoAdjustSampleDistances(0);
  d.mapper->SetSampleDistance((d.interacting ? 2.0 : 1.0) * std::min({sp[0], sp[1], sp[2]}));
  d.mapper->SetImageSampleDistance(d.interacting ? 3.0 : 1.5);
}

void VolumeView::mousePressEvent(QMouseEvent* e) {
  impl_->interacting = true;
  applyQuality();
  VtkOpenGLWidget::mousePressEvent(e);
}

void VolumeView::mouseReleaseEvent(QMouseEvent* e) {
  impl_->interacting = false;
  applyQuality();
  VtkOpenGLWidget::mouseReleaseEvent(e);
  update();
}

void VolumeView::keyPressEvent(QKeyEvent* e) {
  if (e->key() == Qt::Key_R) {
    resetCamera();
    e->accept();
    return;
  }
  // Not forwarded to VTK: its default key bindings (wireframe, quit, ...) make no sense here.
  QOpenGLWidget::keyPressEvent(e);
}
