#include "gui/RoutingChart.h"

#include <QPainter>
#include <algorithm>

namespace {
constexpr int kRowHeight = 20;
}

RoutingChart::RoutingChart(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void RoutingChart::setBars(std::vector<Bar> bars) {
  bars_ = std::move(bars);
  QString tip;
  for (const auto& b : bars_)
    tip += (tip.isEmpty() ? "" : "\n") + b.label + QStringLiteral(": %1 %").arg(100 * b.value, 0, 'f', 0) +
           (b.tooltip.isEmpty() ? QString() : " — " + b.tooltip);
  setToolTip(tip);
  updateGeometry();
  setFixedHeight(sizeHint().height());
  update();
}

QSize RoutingChart::sizeHint() const {
  return {260, 6 + kRowHeight * static_cast<int>(std::max<size_t>(1, bars_.size()))};
}

void RoutingChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, false);
  const QFontMetrics fm(font());
  int labelWidth = 0;
  for (const auto& b : bars_) labelWidth = std::max(labelWidth, fm.horizontalAdvance(b.label));
  labelWidth = std::min(labelWidth + 8, width() / 2);
  const int valueWidth = fm.horizontalAdvance(QStringLiteral("100 %")) + 6;
  const int barSpace = std::max(10, width() - labelWidth - valueWidth - 4);
  int y = 3;
  for (const auto& b : bars_) {
    const QRect labelRect(2, y, labelWidth - 4, kRowHeight - 4);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(labelRect, Qt::AlignVCenter | Qt::AlignLeft,
               fm.elidedText(b.label, Qt::ElideRight, labelRect.width()));
    const QRect track(labelWidth, y + 3, barSpace, kRowHeight - 10);
    p.fillRect(track, palette().color(QPalette::Mid).lighter(130));
    const int w = static_cast<int>(std::clamp(b.value, 0.0, 1.0) * barSpace + 0.5);
    p.fillRect(QRect(track.left(), track.top(), w, track.height()), b.color);
    p.drawText(QRect(labelWidth + barSpace + 4, y, valueWidth, kRowHeight - 4),
               Qt::AlignVCenter | Qt::AlignRight, QStringLiteral("%1 %").arg(100 * b.value, 0, 'f', 0));
    y += kRowHeight;
  }
}
