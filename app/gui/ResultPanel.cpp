#include "gui/ResultPanel.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QTextBrowser>
#include <QTextDocument>
#include <QTextEdit>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "gui/RoutingChart.h"

namespace {

QString readerName() {
  const QString saved = QSettings().value("reader/name").toString();
  return saved.isEmpty() ? qEnvironmentVariable("USER", QStringLiteral("reader")) : saved;
}

QString nowIso() {
  return QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
}

QString percent(double p) {
  return QStringLiteral("%1 %").arg(100 * p, 0, 'f', 1);
}

/// Character position in `text` of UTF-8 byte offset `byte`.
int charPos(const QByteArray& utf8, std::size_t byte) {
  return static_cast<int>(
      QString::fromUtf8(utf8.left(static_cast<int>(std::min<std::size_t>(byte, utf8.size())))).size());
}

/// The finding rank a narrative sentence is about (facts "findingN.*"), 0 if none.
int findingOf(const explain::Sentence& s) {
  for (const auto& [key, value] : s.facts)
    if (key.rfind("finding", 0) == 0) {
      const auto dot = key.find('.');
      const int rank =
          std::atoi(key.substr(7, dot == std::string::npos ? std::string::npos : dot - 7).c_str());
      if (rank > 0) return rank;
    }
  return 0;
}

}  // namespace

ResultPanel::ResultPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);

  auto* noteBox = new QGroupBox(tr("Clinical note (editable; the analysis reads this text)"), this);
  auto* noteLayout = new QVBoxLayout(noteBox);
  noteSource_ = new QLabel(tr("No study"), noteBox);
  noteSource_->setWordWrap(true);
  note_ = new QTextEdit(noteBox);
  note_->setObjectName("noteEdit");
  note_->setAcceptRichText(false);
  note_->setMinimumHeight(90);
  noteLayout->addWidget(noteSource_);
  noteLayout->addWidget(note_);
  layout->addWidget(noteBox, 2);

  auto* runRow = new QHBoxLayout;
  analyze_ = new QPushButton(tr("Analyze"), this);
  analyze_->setToolTip(tr("Run the model on the series shown (Ctrl+R)"));
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  progress_->setFormat(tr("idle"));
  runRow->addWidget(analyze_);
  runRow->addWidget(cancel_);
  runRow->addWidget(progress_, 1);
  layout->addLayout(runRow);
  connect(analyze_, &QPushButton::clicked, this, &ResultPanel::analyzeRequested);
  connect(cancel_, &QPushButton::clicked, this, &ResultPanel::cancelRequested);

  summary_ = new QLabel(this);
  summary_->setObjectName("resultSummary");
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(summary_);
  chart_ = new RoutingChart(this);
  layout->addWidget(chart_);

  narrative_ = new QTextBrowser(this);
  narrative_->setObjectName("narrative");
  narrative_->setOpenLinks(false);
  narrative_->setMinimumHeight(120);
  layout->addWidget(narrative_, 3);
  connect(narrative_, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
    bool ok = false;
    const int rank = url.path().toInt(&ok);
    if (url.scheme() == QLatin1String("finding") && ok) activateFinding(rank);
  });

  decisionLabel_ = new QLabel(this);
  decisionLabel_->setWordWrap(true);
  layout->addWidget(decisionLabel_);
  auto* decisionRow = new QHBoxLayout;
  accept_ = new QPushButton(tr("Accept"), this);
  edit_ = new QPushButton(tr("Edit..."), this);
  reject_ = new QPushButton(tr("Reject"), this);
  export_ = new QPushButton(tr("Export..."), this);
  export_->setToolTip(tr("Write PDF, DICOM SR/SEG/PM/Encapsulated PDF and FHIR reports into a folder"));
  for (auto* b : {accept_, edit_, reject_, export_}) decisionRow->addWidget(b);
  layout->addLayout(decisionRow);
  connect(accept_, &QPushButton::clicked, this, [this] {
    setDecision(workflow::RadiologistDecision{
        workflow::Verdict::Accepted, readerName().toStdString(), nowIso().toStdString(), {}, {}, {}});
  });
  connect(reject_, &QPushButton::clicked, this, [this] {
    setDecision(workflow::RadiologistDecision{
        workflow::Verdict::Rejected, readerName().toStdString(), nowIso().toStdString(), {}, {}, {}});
  });
  connect(edit_, &QPushButton::clicked, this, &ResultPanel::editDecision);
  connect(export_, &QPushButton::clicked, this, &ResultPanel::exportRequested);
  clearResult();
}

void ResultPanel::setNote(const QString& text, const QString& source) {
  originalNote_ = text;
  note_->setExtraSelections({});
  note_->setPlainText(text);
  noteSource_->setText(source);
  highlighted_ = 0;
}

QString ResultPanel::noteText() const {
  return note_->toPlainText();
}
bool ResultPanel::noteEdited() const {
  return note_->toPlainText() != originalNote_;
}

void ResultPanel::setAnalyzeEnabled(bool enabled) {
  analyze_->setEnabled(enabled && !cancel_->isEnabled());
}

void ResultPanel::showRunning() {
  clearResult();
  analyze_->setEnabled(false);
  cancel_->setEnabled(true);
  progress_->setRange(0, 0);  // busy
  setProgress(tr("starting"), 0);
}

void ResultPanel::setProgress(const QString& stage, double elapsedSeconds) {
  static const QHash<QString, QString> words{{"model", tr("loading the model")},
                                             {"load", tr("reading the series")},
                                             {"explain", tr("model + Grad-CAM + findings")},
                                             {"done", tr("writing the result")},
                                             {"reading", tr("reading the result")}};
  progress_->setFormat(
      tr("Analysing: %1 — %2 s").arg(words.value(stage, stage)).arg(elapsedSeconds, 0, 'f', 0));
}

void ResultPanel::clearResult(const QString& message) {
  hasResult_ = false;
  findingCentres_.clear();
  category_.clear();
  management_.clear();
  decision_.reset();
  cancel_->setEnabled(false);
  analyze_->setEnabled(true);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat(message.isEmpty() ? tr("idle") : message);
  summary_->setText(message.isEmpty() ? tr("<i>No analysis result for the series shown.</i>")
                                      : QStringLiteral("<i>%1</i>").arg(message.toHtmlEscaped()));
  chart_->clear();
  narrative_->clear();
  note_->setExtraSelections({});
  highlighted_ = 0;
  for (auto* b : {accept_, edit_, reject_, export_}) b->setEnabled(false);
  updateDecisionLabel();
}

void ResultPanel::showResult(const workflow::AnalysisResult& r, const QString& analysedNote,
                             double wallSeconds) {
  clearResult();
  const auto& e = r.explanation;
  hasResult_ = true;
  progress_->setRange(0, 1);
  progress_->setValue(1);
  progress_->setFormat(
      tr("Done in %1 s (analysis %2 s)").arg(wallSeconds, 0, 'f', 1).arg(r.totalSeconds, 0, 'f', 1));
  category_ = e.lungRadsCategory;
  management_ = e.lungRadsManagement;
  QString html;
  if (e.outOfScope) {
    html = tr("<b>Out of scope:</b> %1").arg(QString::fromStdString(e.outOfScopeReason).toHtmlEscaped());
  } else {
    html = tr("<b>Model probability %1</b> (calibrated on synthetic validation data; research use only)")
               .arg(e.probability, 0, 'f', 2);
    html += "<br>" + (e.lungRadsCategory.empty()
                          ? tr("Lung-RADS: not assigned")
                          : tr("<b>Lung-RADS %1</b>: %2")
                                .arg(QString::fromStdString(e.lungRadsCategory),
                                     QString::fromStdString(e.lungRadsManagement).toHtmlEscaped()));
    html +=
        "<br>" +
        (e.brock.computed
             ? tr("Brock (PanCan) probability %1").arg(percent(e.brock.probability))
             : tr("Brock: not computed (%1)").arg(QString::fromStdString(e.brock.reason).toHtmlEscaped()));
  }
  for (const auto& w : e.warnings)
    html += "<br><span style='color:#a05000'>" + QString::fromStdString(w).toHtmlEscaped() + "</span>";
  summary_->setText(html);

  std::vector<RoutingChart::Bar> bars{
      {tr("image"), e.routing.imageShare, QColor(70, 130, 200), tr("share of the image branch")},
      {tr("note"), e.routing.textShare, QColor(200, 140, 60), tr("share of the note branch")}};
  for (const auto& x : e.routing.experts)
    bars.push_back({tr("expert %1").arg(x.expert), x.weight, QColor(120, 120, 120),
                    QString::fromStdString(x.specialty)});
  chart_->setBars(std::move(bars));

  // Narrative: a sentence about finding N links to it; then one line per finding.
  findingCentres_.assign(e.findings.size(), {});
  for (const auto& f : e.findings)
    if (f.rank >= 1 && f.rank <= static_cast<int>(findingCentres_.size()))
      findingCentres_[f.rank - 1] = f.centerLps;
  QString body;
  for (const auto& s : e.narrative) {
    const QString text = QString::fromStdString(s.text).toHtmlEscaped();
    const int rank = findingOf(s);
    body += rank > 0 && rank <= static_cast<int>(findingCentres_.size())
                ? QStringLiteral("<a href='finding:%1'>%2</a> ").arg(rank).arg(text)
                : text + " ";
  }
  if (!e.findings.empty()) body += "<hr>";
  for (const auto& f : e.findings) {
    const QString what = f.measured ? tr("%1 %2 nodule, %3 mm")
                                          .arg(QString::fromStdString(f.lobe), QString::fromStdString(f.type))
                                          .arg(f.diameterMm, 0, 'f', 1)
                                    : tr("CAM region (not measured)");
    body += QStringLiteral("<a href='finding:%1'>%2 %1</a>: %3, LPS (%4, %5, %6) mm<br>")
                .arg(f.rank)
                .arg(tr("Finding"), what.toHtmlEscaped())
                .arg(f.centerLps[0], 0, 'f', 1)
                .arg(f.centerLps[1], 0, 'f', 1)
                .arg(f.centerLps[2], 0, 'f', 1);
  }
  narrative_->setHtml(body);
  highlightNote(e.note, analysedNote);
  for (auto* b : {accept_, edit_, reject_, export_}) b->setEnabled(true);
  updateDecisionLabel();
}

bool ResultPanel::activateFinding(int rank) {
  if (rank < 1 || rank > static_cast<int>(findingCentres_.size())) return false;
  emit jumpRequested(findingCentres_[rank - 1]);
  return true;
}

void ResultPanel::highlightNote(const explain::NoteAttributions& a, const QString& analysedNote) {
  note_->setExtraSelections({});
  highlighted_ = 0;
  // Spans index the note the worker read; highlight only when that is the text in the editor.
  if (a.phrases.empty() || note_->toPlainText() != analysedNote) return;
  const QByteArray utf8 = analysedNote.toUtf8();
  double maxAbs = 0;
  for (const auto& s : a.phrases) maxAbs = std::max(maxAbs, std::abs(s.score));
  if (maxAbs <= 0) return;
  QList<QTextEdit::ExtraSelection> selections;
  for (const auto& s : a.phrases) {
    const double strength = std::abs(s.score) / maxAbs;
    if (strength < 0.15) continue;  // only the phrases that moved the score noticeably
    QTextEdit::ExtraSelection sel;
    sel.cursor = QTextCursor(note_->document());
    sel.cursor.setPosition(charPos(utf8, s.begin));
    sel.cursor.setPosition(charPos(utf8, s.end), QTextCursor::KeepAnchor);
    QColor c = s.score > 0 ? QColor(230, 40, 40) : QColor(40, 90, 230);
    c.setAlphaF(0.15 + 0.45 * strength);
    sel.format.setBackground(c);
    sel.format.setToolTip(
        tr("%1 the score (%2)").arg(s.score > 0 ? tr("raised") : tr("lowered")).arg(s.score, 0, 'f', 3));
    selections << sel;
  }
  note_->setExtraSelections(selections);
  highlighted_ = selections.size();
}

void ResultPanel::setDecision(std::optional<workflow::RadiologistDecision> decision) {
  decision_ = std::move(decision);
  updateDecisionLabel();
  emit decisionChanged();
}

void ResultPanel::editDecision() {
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Edit the AI result"));
  auto* form = new QFormLayout(&dialog);
  auto* reader = new QLineEdit(readerName(), &dialog);
  auto* category = new QComboBox(&dialog);
  category->addItems({"1", "2", "3", "4A", "4B", "4X"});
  category->setCurrentText(QString::fromStdString(category_));
  auto* management = new QLineEdit(QString::fromStdString(management_), &dialog);
  auto* comment = new QLineEdit(&dialog);
  form->addRow(tr("Reader"), reader);
  form->addRow(tr("Lung-RADS category"), category);
  form->addRow(tr("Management"), management);
  form->addRow(tr("Comment"), comment);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  if (dialog.exec() != QDialog::Accepted) return;
  QSettings().setValue("reader/name", reader->text());
  workflow::RadiologistDecision d;
  d.verdict = workflow::Verdict::Edited;
  d.readerName = reader->text().toStdString();
  d.time = nowIso().toStdString();
  d.comment = comment->text().toStdString();
  if (category->currentText().toStdString() != category_)
    d.editedLungRadsCategory = category->currentText().toStdString();
  if (management->text().toStdString() != management_) d.editedManagement = management->text().toStdString();
  setDecision(d);
}

void ResultPanel::updateDecisionLabel() {
  if (!hasResult_) {
    decisionLabel_->setText(tr("Reader decision: —"));
    return;
  }
  if (!decision_) {
    decisionLabel_->setText(tr("Reader decision: <i>not yet reviewed</i>"));
    return;
  }
  QString text = tr("Reader decision: <b>%1</b> by %2 at %3")
                     .arg(QString::fromStdString(workflow::toString(decision_->verdict)),
                          QString::fromStdString(decision_->readerName).toHtmlEscaped(),
                          QString::fromStdString(decision_->time));
  if (!decision_->editedLungRadsCategory.empty())
    text += tr("; Lung-RADS changed to %1").arg(QString::fromStdString(decision_->editedLungRadsCategory));
  decisionLabel_->setText(text);
}

QString ResultPanel::summaryText() const {
  QTextDocument doc;
  doc.setHtml(summary_->text());
  return doc.toPlainText();
}

QString ResultPanel::narrativeText() const {
  return narrative_->toPlainText();
}
