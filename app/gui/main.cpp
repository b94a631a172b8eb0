// medseek: the workstation GUI.
//   medseek [STUDY_DIR] [--screenshot FILE.png] [--quit-after-ms N]
#include <QApplication>
#include <QCommandLineParser>
#include <QSurfaceFormat>
#include <QTimer>
#include <iostream>

#include "app/Version.h"
#include "gui/MainWindow.h"
#include "gui/VtkOpenGLWidget.h"

int main(int argc, char** argv) {
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
  parser.addOption(shot);
  parser.addOption(quitAfter);
  parser.process(app);

  MainWindow window;
  window.show();
  int exitCode = 0;
  const QStringList args = parser.positionalArguments();
  const bool scripted = parser.isSet(shot) || parser.isSet(quitAfter);
  if (!args.isEmpty() && !window.openPath(args.first(), /*interactiveErrors=*/!scripted)) exitCode = 3;

  if (parser.isSet(shot)) {
    const QString file = parser.value(shot);
    QTimer::singleShot(500, &window, [&window, file, &exitCode] {
      const QImage image = window.grab().toImage();
      if (!image.save(file)) {
        std::cerr << "medseek: could not write screenshot " << file.toStdString() << "\n";
        exitCode = 2;
      }
      QApplication::exit(exitCode);
    });
  }
  if (parser.isSet(quitAfter)) {
    bool ok = false;
    const int ms = parser.value(quitAfter).toInt(&ok);
    if (!ok || ms < 0) {
      std::cerr << "medseek: --quit-after-ms needs a non-negative integer\n";
      return 2;
    }
    QTimer::singleShot(ms, &app, [&exitCode] { QApplication::exit(exitCode); });
  }
  const int rc = app.exec();
  return rc != 0 ? rc : exitCode;
}
