#pragma once
/// ResultPanel: the analysis side panel. Shows the clinical note (editable; the edited text is what the
/// next analysis reads) with the phrases that raised (red) or lowered (blue) the score, the analysis
/// progress with elapsed time and Cancel, and the result: calibrated model probability, Lung-RADS
/// category + management, Brock probability, modality share and top-2 experts (RoutingChart), the
/// narrative (sentences about a finding are links: jumpRequested(centre LPS)), and the reader's
/// decision (Accept / Edit / Reject) with Export. Display only: the result comes from workflow.
#include <QString>
#include <QWidget>
#include <array>
#include <optional>

#include "workflow/Analysis.h"
#include "workflow/Report.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTextBrowser;
class QTextEdit;
class RoutingChart;

class ResultPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ResultPanel(QWidget* parent = nullptr);

  /// The note found for the study (note.txt, fhir.json, DICOM history); resets the edited state.
  void setNote(const QString& text, const QString& source);
  QString noteText() const;
  /// True when the user changed the note since setNote().
  bool noteEdited() const;

  void showRunning();
  void setProgress(const QString& stage, double elapsedSeconds);
  /// Shows a result; `analysedNote` is the note text the worker read (its spans index into it);
  /// `wallSeconds`: from Analyze to the result on screen (worker start and model load included).
  void showResult(const workflow::AnalysisResult& result, const QString& analysedNote, double wallSeconds);
  /// Clears the result (and the decision) and shows `message` instead (e.g. "cancelled", an error).
  void clearResult(const QString& message = {});
  void setAnalyzeEnabled(bool enabled);
  /// What clicking finding `rank` (1 = culprit) in the narrative does: emits jumpRequested. False when
  /// there is no such finding.
  bool activateFinding(int rank);

  std::optional<workflow::RadiologistDecision> decision() const { return decision_; }
  void setDecision(std::optional<workflow::RadiologistDecision> decision);
  /// What is shown, for tests and the --dump-state option.
  QString summaryText() const;
  QString narrativeText() const;
  int highlightedPhrases() const { return highlighted_; }

 signals:
  void analyzeRequested();
  void cancelRequested();
  void jumpRequested(const std::array<double, 3>& lpsMm);
  void exportRequested();
  void decisionChanged();

 private:
  void highlightNote(const explain::NoteAttributions& attributions, const QString& analysedNote);
  void editDecision();
  void updateDecisionLabel();

  QTextEdit* note_ = nullptr;
  QLabel* noteSource_ = nullptr;
  QPushButton* analyze_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* summary_ = nullptr;
  RoutingChart* chart_ = nullptr;
  QTextBrowser* narrative_ = nullptr;
  QLabel* decisionLabel_ = nullptr;
  QPushButton* accept_ = nullptr;
  QPushButton* edit_ = nullptr;
  QPushButton* reject_ = nullptr;
  QPushButton* export_ = nullptr;
  QString originalNote_;
  std::vector<std::array<double, 3>> findingCentres_;  ///< by rank - 1
  std::optional<workflow::RadiologistDecision> decision_;
  std::string category_, management_;
  bool hasResult_ = false;
  int highlighted_ = 0;
};
