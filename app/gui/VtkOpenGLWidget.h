#pragma once
/// VtkOpenGLWidget: hosts a VTK render window inside a Qt 6 QOpenGLWidget.
///
/// Debian's VTK 9.1 Qt adapter (QVTKOpenGLNativeWidget) is built against Qt 5 and aborts in a Qt 6
/// process, so this class does what that adapter does: it owns a vtkGenericOpenGLRenderWindow that
/// renders into the widget's framebuffer, and forwards mouse/wheel/key events to a
/// vtkGenericRenderWindowInteractor.
///
///   auto* view = new VtkOpenGLWidget(parent);
///   view->renderWindow()->AddRenderer(renderer);   // then call view->update() after changes
///
/// Requirement: QSurfaceFormat::setDefaultFormat(VtkOpenGLWidget::defaultFormat()) before QApplication.
#include <QOpenGLWidget>
#include <vtkNew.h>
#include <vtkSmartPointer.h>

class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkObject;
class QInputEvent;

class VtkOpenGLWidget : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit VtkOpenGLWidget(QWidget* parent = nullptr);
  ~VtkOpenGLWidget() override;

  vtkGenericOpenGLRenderWindow* renderWindow() const;
  vtkGenericRenderWindowInteractor* interactor() const;
  static QSurfaceFormat defaultFormat();

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void enterEvent(QEnterEvent* e) override;
  void leaveEvent(QEvent* e) override;

 private:
  void onVtkEvent(vtkObject* caller, unsigned long eventId, void* callData);
  void setEventPosition(const QPointF& pos, QInputEvent* e);

  struct Impl;
  Impl* impl_;
  bool inPaint_ = false;
};
