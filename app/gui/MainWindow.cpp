#include "gui/MainWindow.h"

#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QTextStream>
#include <QToolBar>

#include "app/Version.h"
#include "gui/SliceView.h"
#include "gui/ViewerPanel.h"

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
  buildMenusAndToolbars();
  resize(1200, 950);
  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
}

MainWindow::~MainWindow() = default;

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
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  rebuildRecentMenu();
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
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    auto loaded = std::make_unique<workflow::LoadedStudy>(workflow::loadStudy(path.toStdString()));
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
    updateOverlayControls();
    QSettings().setValue("lastFolder", path);
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    viewer_->clear();
    study_.reset();
    updateOverlayControls();
    studyLabel_->setText(tr("Could not open %1").arg(path));
    reportError(tr("Could not open study"), QString::fromUtf8(e.what()), interactiveErrors);
    return false;
  }
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
