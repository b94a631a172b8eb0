#pragma once
/// RoutingChart: a small horizontal bar chart of the model's routing for one result: modality share
/// (image vs note) and the top-2 experts' gate weights with their specialty. Painting only (QPainter).
#include <QString>
#include <QWidget>
#include <vector>

class RoutingChart : public QWidget {
  Q_OBJECT
 public:
  struct Bar {
    QString label;
    double value = 0;  ///< 0..1
    QColor color;
    QString tooltip;
  };

  explicit RoutingChart(QWidget* parent = nullptr);
  void setBars(std::vector<Bar> bars);
  void clear() { setBars({}); }
  const std::vector<Bar>& bars() const { return bars_; }
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* e) override;

 private:
  std::vector<Bar> bars_;
};
