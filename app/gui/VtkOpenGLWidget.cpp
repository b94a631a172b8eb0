#include "gui/VtkOpenGLWidget.h"

#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QSurfaceFormat>
#include <QWheelEvent>
#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleImage.h>
#include <vtkOpenGLState.h>
#include <vtkRenderWindowInteractor.h>

struct VtkOpenGLWidget::Impl {
  vtkNew<vtkGenericOpenGLRenderWindow> window;
  vtkNew<vtkGenericRenderWindowInteractor> interactor;
  vtkNew<vtkCallbackCommand> observer;
};

QSurfaceFormat VtkOpenGLWidget::defaultFormat() {
  QSurfaceFormat fmt;
  fmt.setRenderableType(QSurfaceFormat::OpenGL);
  fmt.setVersion(3, 2);
  fmt.setProfile(QSurfaceFormat::CoreProfile);
  fmt.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
  fmt.setRedBufferSize(8);
  fmt.setGreenBufferSize(8);
  fmt.setBlueBufferSize(8);
  fmt.setDepthBufferSize(24);
  fmt.setStencilBufferSize(8);
  fmt.setAlphaBufferSize(8);
  fmt.setSamples(0);  // MSAA off: 2-D slice views render twice as fast under llvmpipe
  return fmt;
}

VtkOpenGLWidget::VtkOpenGLWidget(QWidget* parent) : QOpenGLWidget(parent), impl_(new Impl) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  auto* win = impl_->window.Get();
  win->SetReadyForRendering(false);
  win->SetFrameBlitModeToNoBlit();
  win->SetOwnContext(0);
  win->SetMultiSamples(0);
  impl_->interactor->SetRenderWindow(win);
  impl_->interactor->EnableRenderOff();  // Qt decides when to paint
  win->SetInteractor(impl_->interactor);

  impl_->observer->SetClientData(this);
  impl_->observer->SetCallback([](vtkObject* caller, unsigned long id, void* client, void* data) {
    static_cast<VtkOpenGLWidget*>(client)->onVtkEvent(caller, id, data);
  });
  win->AddObserver(vtkCommand::WindowMakeCurrentEvent, impl_->observer);
  win->AddObserver(vtkCommand::WindowIsCurrentEvent, impl_->observer);
  win->AddObserver(vtkCommand::WindowFrameEvent, impl_->observer);
}

VtkOpenGLWidget::~VtkOpenGLWidget() {
  makeCurrent();
  impl_->window->RemoveObserver(impl_->observer);
  impl_->window->Finalize();
  doneCurrent();
  delete impl_;
}

vtkGenericOpenGLRenderWindow* VtkOpenGLWidget::renderWindow() const { return impl_->window.Get(); }
vtkGenericRenderWindowInteractor* VtkOpenGLWidget::interactor() const {
  return impl_->interactor.Get();
}

void VtkOpenGLWidget::onVtkEvent(vtkObject*, unsigned long eventId, void* callData) {
  switch (eventId) {
    case vtkCommand::WindowMakeCurrentEvent: {
      // Never QOpenGLWidget::makeCurrent() here: it rebinds Qt's FBO behind VTK (black frames).
      QOpenGLContext* ctx = context();
      if (ctx && QOpenGLContext::currentContext() != ctx) ctx->makeCurrent(ctx->surface());
      break;
    }
    case vtkCommand::WindowIsCurrentEvent: {
      bool* isCurrent = static_cast<bool*>(callData);
      *isCurrent = context() && QOpenGLContext::currentContext() == context();
      break;
    }
    case vtkCommand::WindowFrameEvent:
      // VTK finished a frame outside paintGL (e.g. interactor-triggered Render()): repaint through Qt.
      if (!inPaint_) update();
      break;
    default:
      break;
  }
}

void VtkOpenGLWidget::initializeGL() {
  auto* win = impl_->window.Get();
  win->SetReadyForRendering(true);
  win->OpenGLInitContext();
  win->GetState()->Reset();
}

void VtkOpenGLWidget::resizeGL(int w, int h) {
  const double dpr = devicePixelRatioF();
  const int pw = static_cast<int>(w * dpr), ph = static_cast<int>(h * dpr);
  auto* win = impl_->window.Get();
  win->SetSize(pw, ph);
  win->SetScreenSize(pw, ph);
  win->SetDPI(static_cast<int>(72 * dpr));
  impl_->interactor->UpdateSize(pw, ph);
}

void VtkOpenGLWidget::paintGL() {
  auto* win = impl_->window.Get();
  if (!win->GetReadyForRendering()) return;
  inPaint_ = true;
  win->GetState()->Reset();
  win->GetState()->Push();
  win->Render();
  // Copy VTK's offscreen framebuffer into the one Qt composes this widget from.
  auto* f = context()->functions();
  f->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  const double dpr = devicePixelRatioF();
  win->BlitDisplayFramebuffer(0, 0, 0, static_cast<int>(width() * dpr),
                              static_cast<int>(height() * dpr), 0, 0,
                              static_cast<int>(width() * dpr), static_cast<int>(height() * dpr),
                              GL_COLOR_BUFFER_BIT, GL_NEAREST);
  win->GetState()->Pop();
  inPaint_ = false;
}

void VtkOpenGLWidget::setEventPosition(const QPointF& pos, QInputEvent* e) {
  const double dpr = devicePixelRatioF();
  const auto mods = e->modifiers();
  impl_->interactor->SetEventInformationFlipY(static_cast<int>(pos.x() * dpr),
                                              static_cast<int>(pos.y() * dpr),
                                              (mods & Qt::ControlModifier) ? 1 : 0,
                                              (mods & Qt::ShiftModifier) ? 1 : 0);
  impl_->interactor->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
}

void VtkOpenGLWidget::mousePressEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e);
  const bool dbl = e->type() == QEvent::MouseButtonDblClick;
  impl_->interactor->SetRepeatCount(dbl ? 1 : 0);
  switch (e->button()) {
    case Qt::LeftButton: impl_->interactor->InvokeEvent(vtkCommand::LeftButtonPressEvent); break;
    case Qt::MiddleButton: impl_->interactor->InvokeEvent(vtkCommand::MiddleButtonPressEvent); break;
    case Qt::RightButton: impl_->interactor->InvokeEvent(vtkCommand::RightButtonPressEvent); break;
    default: break;
  }
  update();
}

void VtkOpenGLWidget::mouseReleaseEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e);
  switch (e->button()) {
    case Qt::LeftButton: impl_->interactor->InvokeEvent(vtkCommand::LeftButtonReleaseEvent); break;
    case Qt::MiddleButton: impl_->interactor->InvokeEvent(vtkCommand::MiddleButtonReleaseEvent); break;
    case Qt::RightButton: impl_->interactor->InvokeEvent(vtkCommand::RightButtonReleaseEvent); break;
    default: break;
  }
  update();
}

void VtkOpenGLWidget::mouseMoveEvent(QMouseEvent* e) {
  setEventPosition(e->position(), e);
  impl_->interactor->InvokeEvent(vtkCommand::MouseMoveEvent);
  if (e->buttons() != Qt::NoButton) update();
}

void VtkOpenGLWidget::wheelEvent(QWheelEvent* e) {
  setEventPosition(e->position(), e);
  const int dy = e->angleDelta().y();
  if (dy > 0) impl_->interactor->InvokeEvent(vtkCommand::MouseWheelForwardEvent);
  if (dy < 0) impl_->interactor->InvokeEvent(vtkCommand::MouseWheelBackwardEvent);
  update();
}

void VtkOpenGLWidget::keyPressEvent(QKeyEvent* e) {
  const QString text = e->text();
  const char ascii = text.isEmpty() ? 0 : text.at(0).toLatin1();
  impl_->interactor->SetKeyCode(ascii);
  impl_->interactor->InvokeEvent(vtkCommand::KeyPressEvent);
  impl_->interactor->InvokeEvent(vtkCommand::CharEvent);
  QOpenGLWidget::keyPressEvent(e);
  update();
}

void VtkOpenGLWidget::enterEvent(QEnterEvent* e) {
  impl_->interactor->InvokeEvent(vtkCommand::EnterEvent);
  QOpenGLWidget::enterEvent(e);
}

void VtkOpenGLWidget::leaveEvent(QEvent* e) {
  impl_->interactor->InvokeEvent(vtkCommand::LeaveEvent);
  QOpenGLWidget::leaveEvent(e);
}
