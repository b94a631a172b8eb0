#include "gui/ViewerPanel.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QSlider>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gui/SliceView.h"
#include "gui/VolumeView.h"

ViewerPanel::ViewerPanel(QWidget* parent) : QWidget(parent) {
  grid_ = new QGridLayout(this);
  grid_->setContentsMargins(0, 0, 0, 0);
  grid_->setSpacing(2);
  const SliceOrientation orientations[3] = {SliceOrientation::Sagittal, SliceOrientation::Coronal,
                                            SliceOrientation::Axial};
  for (int axis = 0; axis < 3; ++axis) {
    auto* cell = new QWidget(this);
    auto* row = new QHBoxLayout(cell);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(0);
    auto* view = new SliceView(orientations[axis], cell);
    auto* slider = new QSlider(Qt::Vertical, cell);
    slider->setEnabled(false);
    slider->setToolTip(tr("Slice"));
    row->addWidget(view, 1);
    row->addWidget(slider);
    views_[axis] = view;
    sliders_[axis] = slider;
    cells_[axis] = cell;
    connect(slider, &QSlider::valueChanged, view, [view](int v) { view->setSlice(v); });
    connect(view, &SliceView::sliceChanged, this, [this, axis](int k, int) { onSliceChanged(axis, k); });
    connect(view, &SliceView::cursorPicked, this, &ViewerPanel::setCrosshair);
    connect(view, &SliceView::hovered, this, &ViewerPanel::onHovered);
    connect(view, &SliceView::measurementChanged, this, &ViewerPanel::measurementText);
    connect(view, &SliceView::windowLevelChanged, this, [this](double w, double l) { setWindowLevel(w, l); });
  }
  volumeView_ = new VolumeView(this);
  cells_[3] = volumeView_;
  // 2x2: axial top left, coronal top right, sagittal bottom left, 3-D bottom right.
  grid_->addWidget(cells_[2], 0, 0);
  grid_->addWidget(cells_[1], 0, 1);
  grid_->addWidget(cells_[0], 1, 0);
  grid_->addWidget(cells_[3], 1, 1);
  connect(views_[2], &QOpenGLWidget::frameSwapped, this, [this] {
    if (!waitingForFirstImage_ || !volume_) return;
    waitingForFirstImage_ = false;
    emit firstImageShown(sinceSetVolume_.nsecsElapsed() / 1e6);
    // The 3-D view (resampling + a first ray cast of ~1 s under llvmpipe) comes after the slices.
    QTimer::singleShot(0, this, [this] { ensureVolumeViewLoaded(); });
  });
}

ViewerPanel::~ViewerPanel() = default;

void ViewerPanel::clear() {
  volume_.reset();
  overlay_.reset();
  for (int a = 0; a < 3; ++a) {
    views_[a]->clear();
    sliders_[a]->setEnabled(false);
  }
  volumeView_->clear();
  volumeViewLoaded_ = false;
}

void ViewerPanel::ensureVolumeViewLoaded() {
  if (!volume_ || volumeViewLoaded_ || !cells_[3]->isVisible()) return;
  volumeViewLoaded_ = true;
  try {
    volumeView_->setVolume(volume_);
    if (overlay_) volumeView_->setOverlay(overlay_, overlayStyle_);
  } catch (const std::exception& e) {
    // The 2-D views are still usable; say why the 3-D view is empty.
    emit measurementText(tr("3-D view unavailable: %1").arg(QString::fromUtf8(e.what())));
  }
}

void ViewerPanel::setVolume(std::shared_ptr<const imaging::CtVolume> volume) {
  sinceSetVolume_.start();
  waitingForFirstImage_ = true;
  clear();
  if (!volume || volume->empty()) return;
  volume_ = std::move(volume);
  const auto& g = volume_->geometry();
  for (int a = 0; a < 3; ++a) {
    QSignalBlocker block(sliders_[a]);
    sliders_[a]->setRange(0, g.size[a] - 1);
    sliders_[a]->setEnabled(true);
    views_[a]->setVolume(volume_);
    views_[a]->setWindowLevel(windowLevel_.window, windowLevel_.level);
  }
  if (layout_ == Layout::VolumeOnly) ensureVolumeViewLoaded();
  setCrosshair({g.size[0] / 2, g.size[1] / 2, g.size[2] / 2});
}

void ViewerPanel::setWindowLevel(double window, double level) {
  windowLevel_ = {std::max(1.0, window), level};
  for (auto* v : views_) v->setWindowLevel(windowLevel_.window, windowLevel_.level);
  emit windowLevelChanged(windowLevel_.window, windowLevel_.level);
}

void ViewerPanel::setToolMode(ToolMode mode) {
  for (auto* v : views_) v->setToolMode(mode);
}

void ViewerPanel::setViewLayout(Layout layout) {
  layout_ = layout;
  const int only = layout == Layout::AxialOnly      ? 2
                   : layout == Layout::CoronalOnly  ? 1
                   : layout == Layout::SagittalOnly ? 0
                   : layout == Layout::VolumeOnly   ? 3
                                                    : -1;
  for (int c = 0; c < 4; ++c) cells_[c]->setVisible(only < 0 || only == c);
  // The 3-D view is built lazily: resampling and ray casting cost time nobody needs while it is hidden.
  ensureVolumeViewLoaded();
}

void ViewerPanel::setCrosshair(const VoxelIndex& ijk) {
  if (!volume_) return;
  const auto& g = volume_->geometry();
  for (int a = 0; a < 3; ++a) cursor_[a] = std::clamp(ijk[a], 0, g.size[a] - 1);
  for (int a = 0; a < 3; ++a) {
    views_[a]->setCrosshair(cursor_);
    views_[a]->setSlice(cursor_[a]);
  }
  emit cursorChanged(cursor_);
}

void ViewerPanel::onSliceChanged(int axis, int index) {
  {
    QSignalBlocker block(sliders_[axis]);
    sliders_[axis]->setValue(index);
  }
  if (cursor_[axis] == index) return;
  cursor_[axis] = index;
  for (auto* v : views_) v->setCrosshair(cursor_);
  emit cursorChanged(cursor_);
}

void ViewerPanel::jumpTo(const std::array<double, 3>& lpsMm) {
  if (!volume_) return;
  const auto& g = volume_->geometry();
  auto ijk = g.ijkFromLps(lpsMm);
  for (int a = 0; a < 3; ++a) ijk[a] = std::clamp(ijk[a], 0.0, g.size[a] - 1.0);
  setCrosshair({int(std::lround(ijk[0])), int(std::lround(ijk[1])), int(std::lround(ijk[2]))});
  for (auto* v : views_) v->centreOn(ijk);
}

void ViewerPanel::onHovered(const VoxelIndex& ijk, bool inside) {
  if (!volume_ || !inside) {
    emit hoverText(QString());
    return;
  }
  const auto& g = volume_->geometry();
  const auto lps = g.lpsFromIjk({double(ijk[0]), double(ijk[1]), double(ijk[2])});
  QString text = tr("voxel %1, %2, %3  |  LPS %4, %5, %6 mm  |  %7 HU")
                     .arg(ijk[0])
                     .arg(ijk[1])
                     .arg(ijk[2])
                     .arg(lps[0], 0, 'f', 1)
                     .arg(lps[1], 0, 'f', 1)
                     .arg(lps[2], 0, 'f', 1)
                     .arg(volume_->at(ijk[0], ijk[1], ijk[2]));
  if (overlay_)
    text += tr("  |  overlay %1").arg((*overlay_)[volume_->index(ijk[0], ijk[1], ijk[2])], 0, 'f', 3);
  emit hoverText(text);
}

void ViewerPanel::setOverlay(std::shared_ptr<const std::vector<float>> valuesOnCtGrid) {
  setOverlay(std::move(valuesOnCtGrid), overlayStyle_);
}

void ViewerPanel::setOverlay(std::shared_ptr<const std::vector<float>> valuesOnCtGrid,
                             const OverlayStyle& style) {
  if (!volume_) throw std::invalid_argument("overlay: no CT volume is shown");
  if (!valuesOnCtGrid || valuesOnCtGrid->size() != volume_->valuesHu().size())
    throw std::invalid_argument("overlay has " + std::to_string(valuesOnCtGrid ? valuesOnCtGrid->size() : 0) +
                                " values but the CT volume has " +
                                std::to_string(volume_->valuesHu().size()) + " voxels");
  for (auto* v : views_) v->setOverlay(valuesOnCtGrid, style);
  overlay_ = std::move(valuesOnCtGrid);
  overlayStyle_ = style;
  if (volumeViewLoaded_) volumeView_->setOverlay(overlay_, style);
}

void ViewerPanel::clearOverlay() {
  overlay_.reset();
  for (auto* v : views_) v->clearOverlay();
  volumeView_->clearOverlay();
}

void ViewerPanel::setOverlayStyle(const OverlayStyle& style) {
  overlayStyle_ = style;
  if (!overlay_) return;
  for (auto* v : views_) v->setOverlayStyle(style);
  volumeView_->setOverlayStyle(style);
}

void ViewerPanel::setOverlayOpacity(double opacity) {
  OverlayStyle s = overlayStyle_;
  s.opacity = std::clamp(opacity, 0.0, 1.0);
  setOverlayStyle(s);
}

void ViewerPanel::setOverlayThreshold(double threshold) {
  OverlayStyle s = overlayStyle_;
  s.threshold = threshold;
  setOverlayStyle(s);
}

void ViewerPanel::setOverlayVisible(bool visible) {
  OverlayStyle s = overlayStyle_;
  s.visible = visible;
  setOverlayStyle(s);
}
