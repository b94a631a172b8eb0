#pragma once
/// WorklistPanel: the risk-ranked worklist of a screening run (workflow::readWorklist) as a table:
/// rank, patient, probability, Lung-RADS, status/reason, top finding. Double-click (or Enter) asks for
/// the row's study to be opened. Wiring only: reading is in workflow, opening in MainWindow.
#include <QString>
#include <QWidget>
#include <vector>

#include "workflow/Worklist.h"

class QLabel;
class QTableWidget;

class WorklistPanel : public QWidget {
  Q_OBJECT
 public:
  explicit WorklistPanel(QWidget* parent = nullptr);
  void setRows(const QString& file, std::vector<workflow::WorklistRow> rows);
  void clear();
  /// Marks the row of `rank` as the one opened (-1: none).
  void setOpenedRank(int rank);
  const std::vector<workflow::WorklistRow>& rows() const { return rows_; }
  const QString& file() const { return file_; }

 signals:
  void rowActivated(int rank);

 private:
  QLabel* header_ = nullptr;
  QTableWidget* table_ = nullptr;
  QString file_;
  std::vector<workflow::WorklistRow> rows_;
};
