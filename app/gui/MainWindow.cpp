#include "gui/MainWindow.h"

#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonArray>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QTextStream>
#include <QTimer>
#include <QToolBar>
#include <algorithm>

#include "app/Version.h"
#include "gui/AnalysisRunner.h"
#include "gui/ResultPanel.h"
#include "gui/SeriesBrowser.h"
#include "gui/SliceView.h"
#include "gui/ViewerPanel.h"
#include "gui/WorklistPanel.h"
#include "workflow/AnalysisJson.h"
#include "workflow/NoteSource.h"
#include "workflow/Report.h"
#include "workflow/StudyInfo.h"
#include "workflow/Worklist.h"

namespace {
struct Preset {
  const char* key;
  const char* label;
  double window, level;
  Qt::Key shortcut;
};
// Defaults; the values live in QSettings under presets/<key>/{window,level} and can be edited there.
const Preset kPresets[] = {{"lung", "Lung", 1500, -600, Qt::Key_F1},
                           {"mediastinum", "Mediastinum", 350, 40, Qt::Key_F2},
                           {"bone", "Bone", 2000, 300, Qt::Key_F3}};
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(
      QStringLiteral("%1 %2 — research use only, not for clinical use").arg(app::kName, app::kVersion));
  setAcceptDrops(true);  // drop a study folder, DICOMDIR or file onto the window to open it
  viewer_ = new ViewerPanel(this);
  setCentralWidget(viewer_);
  hoverLabel_ = new QLabel(this);
  measurementLabel_ = new QLabel(this);
  studyLabel_ = new QLabel(tr("No study loaded: File > Open Folder"), this);
  statusBar()->addWidget(studyLabel_);
  statusBar()->addWidget(hoverLabel_, 1);
  statusBar()->addPermanentWidget(measurementLabel_);
  connect(viewer_, &ViewerPanel::hoverText, hoverLabel_, &QLabel::setText);
  connect(viewer_, &ViewerPanel::measurementText, measurementLabel_, &QLabel::setText);
  modelLabel_ = new QLabel(tr("model: not run"), this);
  modelLabel_->setObjectName("modelLabel");
  statusBar()->addPermanentWidget(modelLabel_);

  resultPanel_ = new ResultPanel(this);
  auto* resultDock = new QDockWidget(tr("Analysis"), this);
  resultDock->setObjectName("analysisDock");
  resultDock->setWidget(resultPanel_);
  addDockWidget(Qt::RightDockWidgetArea, resultDock);
  seriesBrowser_ = new SeriesBrowser(this);
  auto* seriesDock = new QDockWidget(tr("Study browser"), this);
  seriesDock->setObjectName("seriesDock");
  seriesDock->setWidget(seriesBrowser_);
  addDockWidget(Qt::LeftDockWidgetArea, seriesDock);
  resizeDocks({resultDock, seriesDock}, {380, 300}, Qt::Horizontal);
  worklistPanel_ = new WorklistPanel(this);
  worklistDock_ = new QDockWidget(tr("Worklist"), this);
  worklistDock_->setObjectName("worklistDock");
  worklistDock_->setWidget(worklistPanel_);
  addDockWidget(Qt::BottomDockWidgetArea, worklistDock_);
  worklistDock_->hide();  // shown when a worklist is opened
  connect(worklistPanel_, &WorklistPanel::rowActivated, this, [this](int rank) { openWorklistRank(rank); });

  runner_ = new AnalysisRunner(this);
  elapsedTimer_ = new QTimer(this);
  elapsedTimer_->setInterval(250);
  connect(elapsedTimer_, &QTimer::timeout, this,
          [this] { resultPanel_->setProgress(stage_, runner_->elapsedSeconds()); });
  connect(runner_, &AnalysisRunner::progress, this, [this](const QString& stage, double) {
    stage_ = stage;
    resultPanel_->setProgress(stage_, runner_->elapsedSeconds());
  });
  connect(runner_, &AnalysisRunner::finished, this, &MainWindow::onAnalysisFinished);
  connect(runner_, &AnalysisRunner::failed, this, [this](const QString& reason) {
    elapsedTimer_->stop();
    clearResult(tr("Analysis failed: %1").arg(reason));
    reportError(tr("Analysis failed"), reason, interactiveErrors_);
    emit analysisEnded(false, reason);
  });
  connect(runner_, &AnalysisRunner::cancelled, this, [this] {
    elapsedTimer_->stop();
    clearResult(tr("Analysis cancelled"));
    emit analysisEnded(false, tr("cancelled"));
  });
  connect(resultPanel_, &ResultPanel::analyzeRequested, this, &MainWindow::startAnalysis);
  connect(resultPanel_, &ResultPanel::cancelRequested, this, &MainWindow::cancelAnalysis);
  connect(resultPanel_, &ResultPanel::exportRequested, this, &MainWindow::chooseExportFolder);
  connect(resultPanel_, &ResultPanel::jumpRequested, this,
          [this](const std::array<double, 3>& lps) { viewer_->jumpTo(lps); });
  connect(seriesBrowser_, &SeriesBrowser::seriesActivated, this, [this](const QString& uid) {
    if (!study_ || uid != QString::fromStdString(study_->seriesInstanceUid)) openSeries(uid);
  });
  buildMenusAndToolbars();
  resize(1200, 950);
  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
}

MainWindow::~MainWindow() = default;

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls() && e->mimeData()->urls().first().isLocalFile()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  // A dropped folder, DICOMDIR or file opens like File > Open (the first one, if several).
  const auto urls = e->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  e->acceptProposedAction();
  openPath(urls.first().toLocalFile(), true);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  QMainWindow::closeEvent(e);
}

void MainWindow::buildMenusAndToolbars() {
  QSettings settings;
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open Folder..."), QKeySequence::Open, this, &MainWindow::chooseFolder);
  file->addAction(tr("Open &Worklist..."), this, &MainWindow::chooseWorklist)
      ->setToolTip(tr("Open the worklist.json of a medseek-cli screen run"));
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  rebuildRecentMenu();
  exportAction_ = file->addAction(tr("&Export Reports..."), this, &MainWindow::chooseExportFolder);
  exportAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);

  // Tools: what a left drag does in the 2-D views.
  auto* tools = addToolBar(tr("Tools"));
  tools->setObjectName("toolsToolbar");
  auto* toolGroup = new QActionGroup(this);
  const std::pair<QString, ToolMode> toolDefs[] = {
      {tr("Navigate"), ToolMode::Navigate}, {tr("Ruler"), ToolMode::Ruler}, {tr("ROI"), ToolMode::Roi}};
  for (const auto& [label, mode] : toolDefs) {
    QAction* a = tools->addAction(label);
    a->setCheckable(true);
    a->setChecked(mode == ToolMode::Navigate);
    toolGroup->addAction(a);
    connect(a, &QAction::triggered, this, [this, mode = mode] { viewer_->setToolMode(mode); });
  }
  tools->actions().at(0)->setToolTip(tr("Click: move the crosshair; left drag: window/level"));
  tools->actions().at(1)->setToolTip(tr("Left drag: measure a distance (Esc clears)"));
  tools->actions().at(2)->setToolTip(tr("Left drag from the centre: circular ROI with HU statistics"));

  // Analysis (out of process).
  tools->addSeparator();
  auto* analysisMenu = menuBar()->addMenu(tr("&Analysis"));
  analyzeAction_ = analysisMenu->addAction(tr("&Analyze Series"), this, &MainWindow::startAnalysis);
  analyzeAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  analyzeAction_->setToolTip(tr("Run the model on the series shown (Ctrl+R)"));
  cancelAction_ = analysisMenu->addAction(tr("&Cancel Analysis"), this, &MainWindow::cancelAnalysis);
  cancelAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
  analysisMenu->addAction(exportAction_);
  // Narrative and report language (persisted; applies to the next analysis and export).
  auto* languageMenu = analysisMenu->addMenu(tr("Narrative &Language"));
  auto* languages = new QActionGroup(this);
  const QString currentLanguage = QSettings().value("analysis/language", "en").toString();
  for (const auto& [code, label] : {std::pair<QString, QString>{"en", tr("English")},
                                    std::pair<QString, QString>{"zh", QString::fromUtf8("中文 (Chinese)")}}) {
    QAction* a = languageMenu->addAction(label);
    a->setCheckable(true);
    a->setChecked(code == currentLanguage);
    languages->addAction(a);
    connect(a, &QAction::triggered, this, [code = code] { QSettings().setValue("analysis/language", code); });
  }
  tools->addAction(analyzeAction_);
  tools->addAction(cancelAction_);

  // Window presets (F1/F2/F3).
  tools->addSeparator();
  auto* viewMenu = menuBar()->addMenu(tr("&View"));
  for (const Preset& p : kPresets) {
    const QString key = QString::fromLatin1(p.key);
    if (!settings.contains("presets/" + key + "/window")) {
      settings.setValue("presets/" + key + "/window", p.window);
      settings.setValue("presets/" + key + "/level", p.level);
    }
    QAction* a =
        viewMenu->addAction(tr("%1 window").arg(tr(p.label)), this, [this, key] { applyPreset(key); });
    a->setShortcut(QKeySequence(p.shortcut));
    a->setShortcutContext(Qt::ApplicationShortcut);
    QAction* b = tools->addAction(tr(p.label), this, [this, key] { applyPreset(key); });
    b->setToolTip(tr("%1 window (%2)").arg(tr(p.label), QKeySequence(p.shortcut).toString()));
  }

  // Layout.
  viewMenu->addSeparator();
  auto* layoutMenu = viewMenu->addMenu(tr("&Layout"));
  auto* layoutGroup = new QActionGroup(this);
  const std::pair<QString, ViewerPanel::Layout> layouts[] = {
      {tr("2 x 2"), ViewerPanel::Layout::Grid2x2},
      {tr("Axial"), ViewerPanel::Layout::AxialOnly},
      {tr("Coronal"), ViewerPanel::Layout::CoronalOnly},
      {tr("Sagittal"), ViewerPanel::Layout::SagittalOnly},
      {tr("3-D"), ViewerPanel::Layout::VolumeOnly}};
  const int savedLayout = settings.value("layout", 0).toInt();
  for (const auto& [label, layout] : layouts) {
    QAction* a = layoutMenu->addAction(label);
    a->setCheckable(true);
    a->setChecked(static_cast<int>(layout) == savedLayout);
    layoutGroup->addAction(a);
    connect(a, &QAction::triggered, this, [this, layout = layout] {
      try {
        viewer_->setViewLayout(layout);
        QSettings().setValue("layout", static_cast<int>(layout));
      } catch (const std::exception& e) {
        reportError(tr("Layout"), QString::fromUtf8(e.what()), true);
      }
    });
  }
  if (savedLayout >= 0 && savedLayout <= 4)
    viewer_->setViewLayout(static_cast<ViewerPanel::Layout>(savedLayout));
  viewMenu->addAction(tr("Reset zoom/pan"), this, [this] {
    for (int a = 0; a < 3; ++a) viewer_->sliceView(a)->resetView();
  });

  // Overlay layer (e.g. Grad-CAM): on/off, opacity, threshold.
  auto* overlayBar = addToolBar(tr("Overlay"));
  overlayBar->setObjectName("overlayToolbar");
  overlayCheck_ = new QCheckBox(tr("Overlay"), overlayBar);
  overlayCheck_->setChecked(settings.value("overlay/visible", true).toBool());
  overlayOpacity_ = new QSlider(Qt::Horizontal, overlayBar);
  overlayOpacity_->setRange(0, 100);
  overlayOpacity_->setMaximumWidth(140);
  overlayOpacity_->setValue(qRound(100 * settings.value("overlay/opacity", 0.5).toDouble()));
  overlayOpacity_->setToolTip(tr("Overlay opacity"));
  overlayThreshold_ = new QDoubleSpinBox(overlayBar);
  overlayThreshold_->setRange(-1e6, 1e6);
  overlayThreshold_->setDecimals(2);
  overlayThreshold_->setSingleStep(0.05);
  overlayThreshold_->setValue(settings.value("overlay/threshold", 0.2).toDouble());
  overlayThreshold_->setToolTip(tr("Overlay values below this are transparent"));
  overlayBar->addWidget(overlayCheck_);
  overlayBar->addWidget(new QLabel(tr(" opacity "), overlayBar));
  overlayBar->addWidget(overlayOpacity_);
  overlayBar->addWidget(new QLabel(tr(" threshold "), overlayBar));
  overlayBar->addWidget(overlayThreshold_);
  overlayColormap_ = new QComboBox(overlayBar);
  overlayColormap_->addItem(tr("Jet"), static_cast<int>(OverlayColormap::Jet));
  overlayColormap_->addItem(tr("Hot"), static_cast<int>(OverlayColormap::Hot));
  overlayColormap_->setCurrentIndex(settings.value("overlay/colormap", 0).toInt() == 1 ? 1 : 0);
  overlayColormap_->setToolTip(tr("Overlay colour map"));
  overlayBar->addWidget(overlayColormap_);
  OverlayStyle style = viewer_->overlayStyle();
  style.visible = overlayCheck_->isChecked();
  style.opacity = overlayOpacity_->value() / 100.0;
  style.threshold = overlayThreshold_->value();
  style.colormap = overlayColormap_->currentIndex() == 1 ? OverlayColormap::Hot : OverlayColormap::Jet;
  viewer_->setOverlayStyle(style);
  connect(overlayCheck_, &QCheckBox::toggled, this, [this](bool on) {
    viewer_->setOverlayVisible(on);
    QSettings().setValue("overlay/visible", on);
  });
  connect(overlayOpacity_, &QSlider::valueChanged, this, [this](int v) {
    viewer_->setOverlayOpacity(v / 100.0);
    QSettings().setValue("overlay/opacity", v / 100.0);
  });
  connect(overlayThreshold_, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    viewer_->setOverlayThreshold(v);
    QSettings().setValue("overlay/threshold", v);
  });
  connect(overlayColormap_, &QComboBox::currentIndexChanged, this, [this](int index) {
    OverlayStyle s = viewer_->overlayStyle();
    s.colormap = index == 1 ? OverlayColormap::Hot : OverlayColormap::Jet;
    viewer_->setOverlayStyle(s);
    QSettings().setValue("overlay/colormap", index);
  });
  updateOverlayControls();
  updateActions();
}

void MainWindow::applyPreset(const QString& key) {
  QSettings settings;
  const double w = settings.value("presets/" + key + "/window").toDouble();
  const double l = settings.value("presets/" + key + "/level").toDouble();
  if (w > 0) viewer_->setWindowLevel(w, l);
}

void MainWindow::updateOverlayControls() {
  const bool on = viewer_->hasOverlay();
  overlayCheck_->setEnabled(on);
  overlayOpacity_->setEnabled(on);
  overlayThreshold_->setEnabled(on);
  overlayColormap_->setEnabled(on);
}

void MainWindow::reportError(const QString& title, const QString& text, bool interactive) {
  if (interactive)
    QMessageBox::critical(this, title, text);
  else
    QTextStream(stderr) << "medseek: " << text << "\n";
}

bool MainWindow::showOverlay(std::shared_ptr<const std::vector<float>> values, bool interactiveErrors) {
  try {
    viewer_->setOverlay(std::move(values));
    updateOverlayControls();
    return true;
  } catch (const std::exception& e) {
    reportError(tr("Could not show overlay"), QString::fromUtf8(e.what()), interactiveErrors);
    updateOverlayControls();
    return false;
  }
}

void MainWindow::chooseFolder() {
  QSettings settings;
  const QString start = settings.value("lastFolder").toString();
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open study folder"), start);
  if (!dir.isEmpty()) openPath(dir);
}

bool MainWindow::openPath(const QString& path, bool interactiveErrors) {
  if (!load(path, {}, interactiveErrors)) return false;
  QSettings().setValue("lastFolder", path);
  addRecent(path);
  return true;
}

bool MainWindow::openSeries(const QString& seriesUid, bool interactiveErrors) {
  if (studyPath_.isEmpty()) return false;
  return load(studyPath_, seriesUid, interactiveErrors);
}

bool MainWindow::load(const QString& path, const QString& seriesUid, bool interactiveErrors) {
  // A result belongs to the study/series it was computed on: showing anything else drops it.
  if (runner_->isRunning()) runner_->cancel();
  clearResult();
  const bool newStudy = path != studyPath_;
  openedRank_ = -1;  // set again by openWorklistRank after a successful load
  worklistPanel_->setOpenedRank(-1);
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    auto loaded = std::make_unique<workflow::LoadedStudy>(
        workflow::loadStudySeries(path.toStdString(), seriesUid.toStdString()));
    viewer_->setVolume(loaded->volume);
    QApplication::restoreOverrideCursor();
    const auto& g = loaded->volume->geometry();
    studyLabel_->setText(
        QStringLiteral("%1  |  %2  |  %3x%4x%5 @ %6x%7x%8 mm")
            .arg(QString::fromStdString(loaded->patientId), QString::fromStdString(loaded->seriesDescription))
            .arg(g.size[0])
            .arg(g.size[1])
            .arg(g.size[2])
            .arg(g.spacingMm[0], 0, 'f', 2)
            .arg(g.spacingMm[1], 0, 'f', 2)
            .arg(g.spacingMm[2], 0, 'f', 2));
    study_ = std::move(loaded);
    studyPath_ = path;
    if (newStudy) {
      try {
        seriesBrowser_->setSeries(path, workflow::listSeries(path.toStdString()));
      } catch (const std::exception& e) {
        seriesBrowser_->clear();
        QTextStream(stderr) << "medseek: series list: " << e.what() << "\n";
      }
      try {
        const auto note = workflow::findNote(path.toStdString(), {}, *study_);
        resultPanel_->setNote(QString::fromStdString(note.text),
                              note.text.empty()
                                  ? tr("No note found (note.txt, fhir.json, DICOM history): type one "
                                       "here or analyse the image alone")
                                  : tr("Source: %1").arg(QString::fromStdString(note.source)));
      } catch (const std::exception& e) {
        resultPanel_->setNote({}, tr("Note could not be read: %1").arg(QString::fromUtf8(e.what())));
      }
    }
    seriesBrowser_->setShownSeries(QString::fromStdString(study_->seriesInstanceUid));
    updateOverlayControls();
    updateActions();
    return true;
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    viewer_->clear();
    study_.reset();
    studyPath_.clear();
    seriesBrowser_->clear();
    resultPanel_->setNote({}, tr("No study"));
    updateOverlayControls();
    updateActions();
    studyLabel_->setText(tr("Could not open %1").arg(path));
    reportError(tr("Could not open study"), QString::fromUtf8(e.what()), interactiveErrors);
    return false;
  }
}

void MainWindow::updateActions() {
  const bool running = runner_->isRunning();
  analyzeAction_->setEnabled(study_ != nullptr && !running);
  cancelAction_->setEnabled(running);
  exportAction_->setEnabled(result_ != nullptr);
  resultPanel_->setAnalyzeEnabled(study_ != nullptr && !running);
}

void MainWindow::clearResult(const QString& message) {
  result_.reset();
  resultSource_.clear();
  analysedNote_.clear();
  viewer_->clearOverlay();
  resultPanel_->clearResult(message);
  modelLabel_->setText(tr("model: not run"));
  updateOverlayControls();
  updateActions();
}

bool MainWindow::analysisRunning() const {
  return runner_->isRunning();
}

bool MainWindow::startAnalysis() {
  if (!study_ || runner_->isRunning()) return false;
  clearResult();
  AnalysisRunner::Request request;
  request.studyPath = studyPath_;
  request.seriesUid = QString::fromStdString(study_->seriesInstanceUid);
  request.ctGrid = study_->volume->geometry();
  request.device = QSettings().value("analysis/device", "auto").toString();
  request.language = QSettings().value("analysis/language", "en").toString();
  if (resultPanel_->noteEdited()) request.noteText = resultPanel_->noteText();
  analysedNote_ = resultPanel_->noteText();
  resultPanel_->showRunning();
  stage_ = QStringLiteral("model");
  runner_->start(request);
  elapsedTimer_->start();
  updateActions();
  return true;
}

void MainWindow::cancelAnalysis() {
  if (runner_->isRunning()) runner_->cancel();
  updateActions();
}

void MainWindow::onAnalysisFinished(std::shared_ptr<const workflow::AnalysisResult> result) {
  elapsedTimer_->stop();
  const auto& request = runner_->request();
  // The runner read the heatmap onto the request's grid; the result must still match what is shown.
  if (!study_ || request.studyPath != studyPath_ ||
      result->study.seriesInstanceUid != study_->seriesInstanceUid) {
    clearResult(tr("The result belonged to another series and was discarded"));
    emit analysisEnded(false, tr("result of another series discarded"));
    return;
  }
  resultSource_ = QStringLiteral("analysis");
  showResult(std::move(result), runner_->elapsedSeconds());
  updateActions();
  emit analysisEnded(true, {});
}

void MainWindow::showResult(std::shared_ptr<const workflow::AnalysisResult> result, double wallSeconds) {
  const QString note = analysedNote_;
  const QString source = resultSource_;
  clearResult();
  resultSource_ = source;
  result_ = std::move(result);
  analysedNote_ = note;
  if (!result_->explanation.heatmap.values.empty()) {
    // Aliasing pointer: the overlay shares the result's heatmap instead of copying it.
    showOverlay(std::shared_ptr<const std::vector<float>>(result_, &result_->explanation.heatmap.values),
                interactiveErrors_);
  }
  resultPanel_->showResult(*result_, analysedNote_, wallSeconds);
  // Show the culprit at once: the views go to the top finding (the reader can click the others).
  if (!result_->explanation.findings.empty())
    viewer_->jumpTo(result_->explanation.findings.front().centerLps);
  const QString device = QString::fromStdString(result_->device).toUpper();
  modelLabel_->setText(tr("%1 | model %2 | sha256 %3")
                           .arg(device.isEmpty()            ? tr("device ?")
                                : device.startsWith("CUDA") ? "GPU (" + device + ")"
                                                            : device,
                                QString::fromStdString(result_->modelVersion),
                                QString::fromStdString(result_->modelSha256.substr(0, 12))));
  modelLabel_->setToolTip(QString::fromStdString(result_->modelPath));
  updateActions();
}

void MainWindow::chooseWorklist() {
  const QString file =
      QFileDialog::getOpenFileName(this, tr("Open worklist"), QSettings().value("lastWorklist").toString(),
                                   tr("Worklist (worklist.json);;JSON (*.json)"));
  if (!file.isEmpty()) openWorklist(file);
}

bool MainWindow::openWorklist(const QString& path, bool interactiveErrors) {
  try {
    auto rows = workflow::readWorklist(path.toStdString());
    const QString file =
        QFileInfo(QString::fromStdString(workflow::worklistFile(path.toStdString()))).absoluteFilePath();
    worklistPanel_->setRows(file, std::move(rows));
    worklistPanel_->setOpenedRank(openedRank_ = -1);
    worklistDock_->show();
    worklistDock_->raise();
    QSettings().setValue("lastWorklist", file);
    return true;
  } catch (const std::exception& e) {
    reportError(tr("Could not open worklist"), QString::fromUtf8(e.what()), interactiveErrors);
    return false;
  }
}

bool MainWindow::openWorklistRank(int rank, bool interactiveErrors) {
  const auto& rows = worklistPanel_->rows();
  const auto it = std::find_if(rows.begin(), rows.end(), [rank](const auto& r) { return r.rank == rank; });
  if (it == rows.end()) {
    reportError(tr("Worklist"), tr("The worklist has no row with rank %1").arg(rank), interactiveErrors);
    return false;
  }
  const workflow::WorklistRow row = *it;  // load() may change the panel's marks, not its rows
  if (row.studyPath.empty()) {
    reportError(tr("Worklist"), tr("Worklist row %1 has no study path").arg(rank), interactiveErrors);
    return false;
  }
  const QString path = QString::fromStdString(row.studyPath);
  if (!load(path, QString::fromStdString(row.seriesUid), interactiveErrors)) return false;
  addRecent(path);
  openedRank_ = rank;
  worklistPanel_->setOpenedRank(rank);
  if (row.status != "analysed" || row.resultPath.empty()) {
    statusBar()->showMessage(tr("Worklist rank %1: %2 %3")
                                 .arg(rank)
                                 .arg(QString::fromStdString(row.status), QString::fromStdString(row.reason)),
                             10000);
    return true;
  }
  try {
    QFile f(QString::fromStdString(row.resultPath));
    if (!f.open(QIODevice::ReadOnly))
      throw std::runtime_error("cannot read " + row.resultPath + ": " + f.errorString().toStdString());
    auto result =
        std::make_shared<workflow::AnalysisResult>(workflow::analysisFromJson(f.readAll().toStdString()));
    if (!study_ || result->study.seriesInstanceUid != study_->seriesInstanceUid)
      throw std::runtime_error(row.resultPath + " belongs to series " + result->study.seriesInstanceUid +
                               ", not to the series shown");
    analysedNote_ = resultPanel_->noteText();
    resultSource_ = QStringLiteral("worklist");
    const double seconds = result->totalSeconds;
    showResult(std::move(result), seconds);
    statusBar()->showMessage(tr("Worklist rank %1: batch result from %2 (no heatmap overlay; Ctrl+R reruns "
                                "the analysis with one)")
                                 .arg(rank)
                                 .arg(QString::fromStdString(row.resultPath)),
                             15000);
  } catch (const std::exception& e) {
    statusBar()->showMessage(tr("Worklist rank %1: result not shown: %2").arg(rank).arg(e.what()), 15000);
    QTextStream(stderr) << "medseek: worklist rank " << rank << ": result not shown: " << e.what() << "\n";
  }
  return true;
}

void MainWindow::chooseExportFolder() {
  if (!result_) return;
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Export reports into"),
                                                        QSettings().value("lastExportFolder").toString());
  if (dir.isEmpty()) return;
  QSettings().setValue("lastExportFolder", dir);
  if (exportReports(dir, true)) statusBar()->showMessage(tr("Reports written to %1").arg(dir), 8000);
}

bool MainWindow::exportReports(const QString& outDir, bool interactiveErrors) {
  if (!result_ || !study_) {
    reportError(tr("Export"), tr("There is no analysis result to export."), interactiveErrors);
    return false;
  }
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    workflow::ReportOptions options;
    options.decision = resultPanel_->decision();
    options.modelVersion = result_->modelVersion;
    options.noteText = analysedNote_.toStdString();
    options.language = QSettings().value("analysis/language", "en").toString().toStdString();
    const auto files = workflow::writeReports(*study_, result_->explanation, options, outDir.toStdString());
    QApplication::restoreOverrideCursor();
    QTextStream(stdout) << "medseek: wrote " << files.size() << " report file(s) to " << outDir << Qt::endl;
    return true;
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    reportError(tr("Export failed"), QString::fromUtf8(e.what()), interactiveErrors);
    return false;
  }
}

QJsonObject MainWindow::stateJson() const {
  QJsonObject o;
  o["study_path"] = studyPath_;
  o["series_uid"] = study_ ? QString::fromStdString(study_->seriesInstanceUid) : QString();
  QJsonArray series;
  for (const auto& s : seriesBrowser_->series()) {
    QJsonObject x;
    x["uid"] = QString::fromStdString(s.seriesInstanceUid);
    x["description"] = QString::fromStdString(s.description);
    x["images"] = s.images;
    x["thickness_mm"] = s.sliceThicknessMm;
    x["selected_for_analysis"] = s.selected;
    x["eligible"] = s.eligible;
    x["reasons"] = QString::fromStdString(s.reasons);
    series.append(x);
  }
  o["series"] = series;
  o["overlay_shown"] = viewer_->hasOverlay();
  o["has_result"] = result_ != nullptr;
  o["result_source"] = resultSource_;
  o["thumbnails_shown"] = seriesBrowser_->thumbnailsShown();
  o["thumbnails_failed"] = seriesBrowser_->thumbnailsFailed();
  if (!worklistPanel_->file().isEmpty()) {
    QJsonObject w;
    w["file"] = worklistPanel_->file();
    w["opened_rank"] = openedRank_;
    QJsonArray rows;
    for (const auto& r : worklistPanel_->rows()) {
      QJsonObject x;
      x["rank"] = r.rank;
      x["study_uid"] = QString::fromStdString(r.studyUid);
      x["patient_id"] = QString::fromStdString(r.patientId);
      x["status"] = QString::fromStdString(r.status);
      x["probability"] = r.probability ? QJsonValue(*r.probability) : QJsonValue();
      x["study_path"] = QString::fromStdString(r.studyPath);
      x["series_uid"] = QString::fromStdString(r.seriesUid);
      rows.append(x);
    }
    w["rows"] = rows;
    o["worklist"] = w;
  }
  o["summary"] = resultPanel_->summaryText();
  o["narrative"] = resultPanel_->narrativeText();
  o["note"] = resultPanel_->noteText();
  o["highlighted_phrases"] = resultPanel_->highlightedPhrases();
  o["status_model"] = modelLabel_->text();
  if (result_) {
    const auto& e = result_->explanation;
    QJsonObject r;
    r["series_uid"] = QString::fromStdString(result_->study.seriesInstanceUid);
    r["probability"] = e.probability;
    r["lung_rads"] = QString::fromStdString(e.lungRadsCategory);
    r["brock_probability"] = e.brock.computed ? QJsonValue(e.brock.probability) : QJsonValue();
    r["device"] = QString::fromStdString(result_->device);
    r["model_sha256"] = QString::fromStdString(result_->modelSha256);
    r["seconds"] = result_->totalSeconds;
    QJsonArray findings;
    for (const auto& f : e.findings)
      findings.append(QJsonArray{f.centerLps[0], f.centerLps[1], f.centerLps[2]});
    r["finding_centers_lps_mm"] = findings;
    o["result"] = r;
  }
  if (const auto d = resultPanel_->decision())
    o["decision"] = QString::fromStdString(workflow::toString(d->verdict));
  const auto c = viewer_->crosshair();
  o["crosshair_ijk"] = QJsonArray{c[0], c[1], c[2]};
  if (study_) {
    const auto lps = study_->volume->geometry().lpsFromIjk({double(c[0]), double(c[1]), double(c[2])});
    o["crosshair_lps_mm"] = QJsonArray{lps[0], lps[1], lps[2]};
  }
  // Where the views are in a grab() of this window (device-independent pixels), for pixel tests.
  auto rect = [this](const QWidget* w) {
    const QPoint p = w->mapTo(this, QPoint(0, 0));
    return QJsonArray{p.x(), p.y(), w->isVisible() ? w->width() : 0, w->isVisible() ? w->height() : 0};
  };
  o["view_rects"] = QJsonObject{{"axial", rect(viewer_->axialView())},
                                {"coronal", rect(viewer_->coronalView())},
                                {"sagittal", rect(viewer_->sagittalView())},
                                {"volume", rect(reinterpret_cast<const QWidget*>(viewer_->volumeView()))}};
  return o;
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value("recent").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > 8) recent.removeLast();
  settings.setValue("recent", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = QSettings().value("recent").toStringList();
  for (const QString& p : recent) recentMenu_->addAction(p, this, [this, p] { openPath(p); });
  recentMenu_->setEnabled(!recent.isEmpty());
}
