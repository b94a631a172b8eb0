// medseek: the workstation GUI.
//   medseek [STUDY_DIR] [--series UID] [--analyze] [--screenshot FILE.png] [--quit-after-ms N]
//           [--benchmark-scroll N] [--demo-overlay] [--layout 2x2|axial|coronal|sagittal|3d]
//           [--jump-to X,Y,Z] [--export DIR [--decision accept|reject]] [--dump-state FILE.json]
//           [--click-finding N] [--then-series UID | --then-open DIR]
//           [--worklist SCREEN_OUT_DIR|worklist.json [--open-rank N]]
#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QSurfaceFormat>
#include <QTimer>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/Version.h"
#include "gui/MainWindow.h"
#include "gui/ResultPanel.h"
#include "gui/SeriesBrowser.h"
#include "gui/SliceView.h"
#include "gui/ViewerPanel.h"
#include "gui/VtkOpenGLWidget.h"

namespace {

/// A synthetic overlay for checking the overlay layer by eye and in tests: a Gaussian blob (sigma 15 mm,
/// peak 1) centred on the cursor (the volume centre, or --jump-to).
std::shared_ptr<std::vector<float>> gaussianAtCursor(const imaging::CtVolume& ct, const VoxelIndex& c) {
  const auto& g = ct.geometry();
  auto values = std::make_shared<std::vector<float>>(g.voxelCount(), 0.0f);
  const double sigmaMm = 15.0;
  for (int k = 0; k < g.size[2]; ++k)
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) {
        const double dx = (i - c[0]) * g.spacingMm[0], dy = (j - c[1]) * g.spacingMm[1],
                     dz = (k - c[2]) * g.spacingMm[2];
        (*values)[ct.index(i, j, k)] =
            static_cast<float>(std::exp(-(dx * dx + dy * dy + dz * dz) / (2 * sigmaMm * sigmaMm)));
      }
  return values;
}

/// Scrolls the axial view through `n` slices, each shown before the next (update + processEvents:
/// the linked views' crosshairs are redrawn too, one window composition per frame), and prints ms/frame.
void benchmarkScroll(ViewerPanel* panel, int n) {
  SliceView* axial = panel->axialView();
  const int count = axial->sliceCount();
  if (count == 0) {
    std::cerr << "medseek: --benchmark-scroll needs a loaded study\n";
    return;
  }
  QApplication::processEvents();
  const int start = axial->slice();
  QElapsedTimer timer;
  timer.start();
  for (int s = 1; s <= n; ++s) {
    axial->setSlice((start + s) % count);
    axial->repaint();
  }
  const double repaintMs = timer.nsecsElapsed() / 1e6 / n;
  timer.restart();
  for (int s = 1; s <= n; ++s) {
    axial->setSlice((start + s) % count);
    QApplication::processEvents();
  }
  const double linkedMs = timer.nsecsElapsed() / 1e6 / n;
  std::cout << "benchmark-scroll: " << n << " axial slices, view " << axial->width() << "x" << axial->height()
            << ": axial repaint() " << repaintMs << " ms/frame (" << 1000.0 / repaintMs
            << " fps); with linked crosshair views " << linkedMs << " ms/frame (" << 1000.0 / linkedMs
            << " fps)" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  // Without any display Qt would abort with a plugin message: --help/--version still work (offscreen),
  // anything else gets one line saying what to do.
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM")) {
    bool info = false;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      info = info || a == "-h" || a == "--help" || a == "--help-all" || a == "-v" || a == "--version";
    }
    if (!info) {
      std::fprintf(
          stderr,
          "medseek: no display (DISPLAY and WAYLAND_DISPLAY are unset); run it on a desktop or under "
          "xvfb-run, or use medseek-cli for headless work\n");
      return 2;
    }
    ::setenv("QT_QPA_PLATFORM", "offscreen", 1);
  }
  // The surface format must be the default before QApplication exists (VTK needs GL 3.2 core).
  QSurfaceFormat::setDefaultFormat(VtkOpenGLWidget::defaultFormat());
  QApplication app(argc, argv);
  QApplication::setOrganizationName("MedSeek");
  QApplication::setApplicationName("medseek");
  QApplication::setApplicationVersion(app::kVersion);

  QCommandLineParser parser;
  parser.setApplicationDescription("MedSeek chest-CT workstation (research use, not for clinical use)");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("study", "DICOM study folder, DICOMDIR or file to open");
  QCommandLineOption shot("screenshot", "Grab the main window to FILE.png once shown, then quit.", "file");
  QCommandLineOption quitAfter("quit-after-ms", "Quit after N milliseconds.", "ms");
  QCommandLineOption benchScroll(
      "benchmark-scroll", "Print the time to first image, scroll N axial slices and print ms/frame, quit.",
      "n");
  QCommandLineOption demoOverlay(
      "demo-overlay", "Show a synthetic Gaussian overlay at the cursor (checks the overlay layer).");
  QCommandLineOption layout("layout", "View layout: 2x2, axial, coronal, sagittal or 3d.", "layout");
  QCommandLineOption jumpTo("jump-to", "Centre the views on the LPS point X,Y,Z (mm).", "x,y,z");
  QCommandLineOption series("series", "Show this series (SeriesInstanceUID) instead of the best chest CT.",
                            "uid");
  QCommandLineOption analyze("analyze",
                             "Analyse the series on start (medseek-cli worker); --screenshot, --export and "
                             "--dump-state then wait for the result. Exit code 4 when it fails.");
  QCommandLineOption exportDir("export", "After --analyze: write the reports into DIR.", "dir");
  QCommandLineOption decision("decision", "With --export: the reader's decision, accept or reject.",
                              "verdict");
  QCommandLineOption dumpState(
      "dump-state", "Write what the window shows (result, narrative, series) as JSON on exit.", "file");
  QCommandLineOption thenSeries("then-series",
                                "After --analyze: show series UID (checks the result is dropped).", "uid");
  QCommandLineOption clickFinding(
      "click-finding", "After --analyze: act as if finding N (1 = culprit) was clicked in the narrative.",
      "n");
  QCommandLineOption thenOpen("then-open", "After --analyze: open study DIR (checks the result is dropped).",
                              "dir");
  QCommandLineOption language("lang", "Narrative and report language, en or zh (saved in the settings).", "lang");
  QCommandLineOption worklist("worklist",
                              "Open the worklist of a medseek-cli screen run (its output folder or "
                              "worklist.json) in the Worklist dock.",
                              "path");
  QCommandLineOption openRank("open-rank",
                              "With --worklist: open the study of worklist row N (1 = highest risk) and "
                              "show its batch result.",
                              "n");
  for (const auto* o :
       {&worklist, &openRank, &shot, &quitAfter, &benchScroll, &demoOverlay, &layout, &jumpTo, &series,
        &analyze, &exportDir, &decision, &dumpState, &thenSeries, &thenOpen, &clickFinding, &language})
    parser.addOption(*o);
  parser.process(app);
  if (parser.isSet(decision) && parser.value(decision) != "accept" && parser.value(decision) != "reject") {
    std::cerr << "medseek: --decision must be accept or reject\n";
    return 2;
  }
  if (parser.isSet(language)) {
    if (parser.value(language) != "en" && parser.value(language) != "zh") {
      std::cerr << "medseek: --lang must be en or zh\n";
      return 2;
    }
    QSettings().setValue("analysis/language", parser.value(language));
  }

  MainWindow window;
  ViewerPanel* viewer = window.viewer();
  if (parser.isSet(layout)) {
    const QStringList names{"2x2", "axial", "coronal", "sagittal", "3d"};
    const int index = names.indexOf(parser.value(layout).toLower());
    if (index < 0) {
      std::cerr << "medseek: --layout must be one of 2x2, axial, coronal, sagittal, 3d\n";
      return 2;
    }
    viewer->setViewLayout(static_cast<ViewerPanel::Layout>(index));
  }
  const bool scripted = parser.isSet(shot) || parser.isSet(quitAfter) || parser.isSet(benchScroll) ||
                        parser.isSet(dumpState) || parser.isSet(exportDir);
  if (scripted) window.resize(1600, 1000);  // reproducible screenshots and benchmarks
  window.setInteractiveErrors(!scripted);
  window.show();
  int exitCode = 0;
  QElapsedTimer sinceOpen;
  QObject::connect(viewer, &ViewerPanel::firstImageShown, &window, [&](double ms) {
    if (parser.isSet(benchScroll))
      std::cout << "first image after setVolume: " << ms << " ms; after choosing the study (scan + load + "
                << "first image): " << sinceOpen.nsecsElapsed() / 1e6 << " ms" << std::endl;
  });
  const QStringList args = parser.positionalArguments();
  sinceOpen.start();
  if (!args.isEmpty() && !window.openPath(args.first(), /*interactiveErrors=*/!scripted)) exitCode = 3;
  if (parser.isSet(openRank) && !parser.isSet(worklist)) {
    std::cerr << "medseek: --open-rank needs --worklist\n";
    return 2;
  }
  if (parser.isSet(worklist)) {
    if (!window.openWorklist(parser.value(worklist), !scripted)) {
      exitCode = 3;
    } else if (parser.isSet(openRank)) {
      bool ok = false;
      const int rank = parser.value(openRank).toInt(&ok);
      if (!ok || rank < 1) {
        std::cerr << "medseek: --open-rank needs a positive integer\n";
        return 2;
      }
      if (!window.openWorklistRank(rank, !scripted)) exitCode = 3;
    }
  }
  if (exitCode == 0 && window.study() && parser.isSet(series) &&
      !window.openSeries(parser.value(series), !scripted))
    exitCode = 3;

  if (window.study() && parser.isSet(jumpTo)) {
    const QStringList xyz = parser.value(jumpTo).split(',');
    bool ok = xyz.size() == 3;
    std::array<double, 3> lps{};
    for (int a = 0; ok && a < 3; ++a) lps[a] = xyz[a].toDouble(&ok);
    if (!ok) {
      std::cerr << "medseek: --jump-to needs X,Y,Z in mm\n";
      return 2;
    }
    viewer->jumpTo(lps);
  }
  if (window.study() && parser.isSet(demoOverlay))
    window.showOverlay(gaussianAtCursor(*window.study()->volume, viewer->crosshair()), !scripted);

  if (parser.isSet(benchScroll)) {
    bool ok = false;
    const int n = parser.value(benchScroll).toInt(&ok);
    if (!ok || n <= 0) {
      std::cerr << "medseek: --benchmark-scroll needs a positive integer\n";
      return 2;
    }
    QTimer::singleShot(1500, &window, [viewer, n, &exitCode] {
      benchmarkScroll(viewer, n);
      QApplication::exit(exitCode);
    });
  }
  // What a scripted run does once the window is ready (after the analysis with --analyze).
  bool finished = false;
  auto finish = [&] {
    if (finished) return;
    finished = true;
    if (parser.isSet(clickFinding) &&
        !window.resultPanel()->activateFinding(parser.value(clickFinding).toInt())) {
      std::cerr << "medseek: --click-finding: no finding " << parser.value(clickFinding).toStdString()
                << "\n";
      exitCode = 4;
    }
    if (parser.isSet(thenSeries) && !window.openSeries(parser.value(thenSeries), false)) exitCode = 3;
    if (parser.isSet(thenOpen) && !window.openPath(parser.value(thenOpen), false)) exitCode = 3;
    if (!parser.isSet(shot)) return;
    const QString file = parser.value(shot);
    // Long enough for the 3-D view, which is built after the first 2-D image (~1-2 s under llvmpipe).
    QTimer::singleShot(2500, &window, [&window, file, &exitCode] {
      const QImage image = window.grab().toImage();
      if (!image.save(file)) {
        std::cerr << "medseek: could not write screenshot " << file.toStdString() << "\n";
        exitCode = 2;
      }
      QApplication::exit(exitCode);
    });
  };
  QElapsedTimer analysisClock;
  if (parser.isSet(analyze) && window.study()) {
    QObject::connect(&window, &MainWindow::analysisEnded, &window, [&](bool ok, const QString& message) {
      std::cout << "analysis " << (ok ? "finished" : "failed") << " after "
                << analysisClock.nsecsElapsed() / 1e9 << " s (GUI, worker process)"
                << (ok ? "" : ": " + message.toStdString()) << std::endl;
      if (!ok && exitCode == 0) exitCode = 4;
      if (ok && parser.isSet(exportDir)) {
        if (parser.isSet(decision))
          window.resultPanel()->setDecision(workflow::RadiologistDecision{
              parser.value(decision) == "accept" ? workflow::Verdict::Accepted : workflow::Verdict::Rejected,
              "medseek --decision", "", "", "", ""});
        if (!window.exportReports(parser.value(exportDir), false)) exitCode = 4;
      }
      finish();
      if (!parser.isSet(shot)) QApplication::exit(exitCode);  // --quit-after-ms is then only a time limit
    });
    analysisClock.start();
    if (!window.startAnalysis()) exitCode = 4;
  } else if (parser.isSet(analyze)) {
    exitCode = exitCode ? exitCode : 3;
    QTimer::singleShot(0, &app, [&exitCode] { QApplication::exit(exitCode); });
  } else {
    finish();
  }
  if (parser.isSet(quitAfter)) {
    bool ok = false;
    const int ms = parser.value(quitAfter).toInt(&ok);
    if (!ok || ms < 0) {
      std::cerr << "medseek: --quit-after-ms needs a non-negative integer\n";
      return 2;
    }
    QTimer::singleShot(ms, &app, [&exitCode, &window, &parser, &analyze] {
      if (parser.isSet(analyze) && window.analysisRunning()) {
        std::cerr << "medseek: the analysis did not finish within --quit-after-ms; cancelled\n";
        exitCode = 5;
        window.cancelAnalysis();  // kills the worker
      }
      QApplication::exit(exitCode);
    });
  }
  const int rc = app.exec();
  if (parser.isSet(dumpState)) {
    window.seriesBrowser()->waitForThumbnails();  // the dumped counts are then final
    QFile f(parser.value(dumpState));
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(window.stateJson()).toJson()) < 0) {
      std::cerr << "medseek: could not write " << parser.value(dumpState).toStdString() << "\n";
      return 2;
    }
  }
  return rc != 0 ? rc : exitCode;
}
