#include "gui/SeriesBrowser.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace {
enum Column { Number, Description, Images, Thickness, Analysis, ColumnCount };
constexpr int kUidRole = Qt::UserRole + 1;
}  // namespace

SeriesBrowser::SeriesBrowser(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  header_ = new QLabel(tr("No study"), this);
  header_->setWordWrap(true);
  tree_ = new QTreeWidget(this);
  tree_->setObjectName("seriesTree");
  tree_->setColumnCount(ColumnCount);
  tree_->setHeaderLabels({tr("#"), tr("Description"), tr("Images"), tr("Thickness"), tr("Analysis")});
  tree_->setRootIsDecorated(false);
  tree_->setAlternatingRowColors(true);
  tree_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
  tree_->header()->setStretchLastSection(true);
  layout->addWidget(header_);
  layout->addWidget(tree_);
  connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
    if (item) emit seriesActivated(item->data(0, kUidRole).toString());
  });
}

void SeriesBrowser::clear() {
  series_.clear();
  tree_->clear();
  header_->setText(tr("No study"));
}

void SeriesBrowser::setSeries(const QString& studyPath, std::vector<workflow::SeriesSummary> series) {
  series_ = std::move(series);
  tree_->clear();
  header_->setText(tr("%1: %n series (double-click to show one)", "", static_cast<int>(series_.size()))
                       .arg(QFileInfo(studyPath).fileName()));
  for (const auto& s : series_) {
    auto* item = new QTreeWidgetItem(tree_);
    item->setData(0, kUidRole, QString::fromStdString(s.seriesInstanceUid));
    item->setText(Number, QString::number(s.seriesNumber));
    item->setText(Description, QStringLiteral("%1 %2").arg(QString::fromStdString(s.modality),
                                                           QString::fromStdString(s.description)));
    item->setText(Images, QString::number(s.images));
    item->setText(Thickness, s.sliceThicknessMm > 0
                                 ? QStringLiteral("%1 mm").arg(s.sliceThicknessMm, 0, 'g', 3)
                                 : QStringLiteral("-"));
    const QString reasons = QString::fromStdString(s.reasons);
    item->setText(Analysis, s.selected   ? tr("selected for analysis: %1").arg(reasons)
                            : s.eligible ? tr("eligible, not first choice: %1").arg(reasons)
                                         : tr("excluded: %1").arg(reasons));
    item->setToolTip(Analysis, item->text(Analysis));
    item->setToolTip(Description, QString::fromStdString(s.seriesInstanceUid));
    if (!s.eligible) item->setForeground(Analysis, QBrush(Qt::darkRed));
  }
}

void SeriesBrowser::setShownSeries(const QString& uid) {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = tree_->topLevelItem(i);
    const bool shown = item->data(0, kUidRole).toString() == uid;
    QFont f = item->font(0);
    f.setBold(shown);
    for (int c = 0; c < ColumnCount; ++c) item->setFont(c, f);
    if (shown) tree_->setCurrentItem(item);
  }
}
