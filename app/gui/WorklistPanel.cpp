#include "gui/WorklistPanel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace {
enum Column { Rank, Patient, Probability, LungRads, Status, TopFinding, ColumnCount };

QTableWidgetItem* cell(const QString& text) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(item->flags() & ~Qt::ItemIsEditable);
  return item;
}
}  // namespace

WorklistPanel::WorklistPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  header_ = new QLabel(tr("No worklist: File > Open Worklist"), this);
  header_->setWordWrap(true);
  table_ = new QTableWidget(0, ColumnCount, this);
  table_->setObjectName("worklistTable");
  table_->setHorizontalHeaderLabels(
      {tr("Rank"), tr("Patient"), tr("Probability"), tr("Lung-RADS"), tr("Status"), tr("Top finding")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  layout->addWidget(header_);
  layout->addWidget(table_);
  connect(table_, &QTableWidget::itemActivated, this, [this](QTableWidgetItem* item) {
    if (item && item->row() >= 0 && item->row() < static_cast<int>(rows_.size()))
      emit rowActivated(rows_[static_cast<std::size_t>(item->row())].rank);
  });
}

void WorklistPanel::clear() {
  rows_.clear();
  file_.clear();
  table_->setRowCount(0);
  header_->setText(tr("No worklist: File > Open Worklist"));
}

void WorklistPanel::setRows(const QString& file, std::vector<workflow::WorklistRow> rows) {
  rows_ = std::move(rows);
  file_ = file;
  int analysed = 0;
  for (const auto& r : rows_) analysed += r.status == "analysed";
  header_->setText(
      tr("%1: %2 studies, %3 analysed (double-click to open)").arg(file).arg(rows_.size()).arg(analysed));
  table_->setRowCount(static_cast<int>(rows_.size()));
  for (int i = 0; i < static_cast<int>(rows_.size()); ++i) {
    const auto& r = rows_[static_cast<std::size_t>(i)];
    table_->setItem(i, Rank, cell(QString::number(r.rank)));
    auto* patient = cell(QString::fromStdString(r.patientId.empty() ? r.studyUid : r.patientId));
    patient->setToolTip(tr("Study %1\naccession %2\n%3")
                            .arg(QString::fromStdString(r.studyUid), QString::fromStdString(r.accession),
                                 QString::fromStdString(r.studyPath)));
    table_->setItem(i, Patient, patient);
    table_->setItem(i, Probability,
                    cell(r.probability ? QString::number(*r.probability, 'f', 3) : QStringLiteral("-")));
    table_->setItem(i, LungRads,
                    cell(r.lungRads.empty() ? QStringLiteral("-") : QString::fromStdString(r.lungRads)));
    QString status = QString::fromStdString(r.status);
    if (!r.reason.empty()) status += ": " + QString::fromStdString(r.reason);
    if (r.status == "analysed" && r.imageOnly) status += tr(" (image only)");
    auto* statusItem = cell(status);
    statusItem->setToolTip(status);
    if (r.status == "failed") statusItem->setForeground(QBrush(Qt::darkRed));
    table_->setItem(i, Status, statusItem);
    QString finding = QStringLiteral("-");
    if (r.topFinding) {
      const auto& f = *r.topFinding;
      finding = QString::fromStdString(f.lobe);
      if (f.diameterMm) finding += QStringLiteral(" %1 mm").arg(*f.diameterMm, 0, 'f', 1);
      if (!f.type.empty()) finding += " " + QString::fromStdString(f.type);
    }
    table_->setItem(i, TopFinding, cell(finding.trimmed()));
  }
}

void WorklistPanel::setOpenedRank(int rank) {
  for (int i = 0; i < table_->rowCount(); ++i) {
    const bool opened = rows_[static_cast<std::size_t>(i)].rank == rank;
    for (int c = 0; c < ColumnCount; ++c) {
      QTableWidgetItem* item = table_->item(i, c);
      if (!item) continue;
      QFont f = item->font();
      f.setBold(opened);
      item->setFont(f);
    }
    if (opened) table_->selectRow(i);
  }
}
