#pragma once
/// AnalysisRunner: runs the analysis of one study OUT OF PROCESS (`medseek-cli analyze --json --cam
/// FILE.mha --progress`) so that LibTorch (and the Qt 5 that Debian's LibTorch pulls in) never enters
/// the GUI process. Reads the result back with workflow::analysisFromJson / readHeatmapMha (off the GUI
/// thread) and binds it to the request's study path and series UID. Cancel kills the worker.
///
///   auto* runner = new AnalysisRunner(this);
///   connect(runner, &AnalysisRunner::finished, this, [](AnalysisRunner::ResultPtr r) { ... });
///   runner->start({studyPath, seriesUid, editedNoteOrEmpty, "auto", volume->geometry()});
///
/// The worker is found as $MEDSEEK_CLI, else medseek-cli beside medseek or one folder up (build tree).
/// Limitations: one analysis at a time; progress is coarse (model load, DICOM load, explain, done).
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>

#include "imaging/CtVolume.h"
#include "workflow/Analysis.h"

class QProcess;
class QTemporaryDir;

class AnalysisRunner : public QObject {
  Q_OBJECT
 public:
  using ResultPtr = std::shared_ptr<const workflow::AnalysisResult>;

  struct Request {
    QString studyPath;
    QString seriesUid;                ///< the series shown (the heatmap must lie on its grid)
    std::optional<QString> noteText;  ///< set: passed to the worker with --note (edited note)
    QString device = QStringLiteral("auto");
    QString language = QStringLiteral("en");  ///< narrative language: en | zh
    imaging::VolumeGeometry ctGrid;  ///< geometry of the series shown
  };

  explicit AnalysisRunner(QObject* parent = nullptr);
  ~AnalysisRunner() override;

  /// The worker executable, or an empty string when none is found.
  static QString findCli();

  /// Starts the worker; emits failed() (asynchronously) when it cannot start. Returns false when an
  /// analysis is already running.
  bool start(const Request& request);
  /// Kills the worker (if running) and emits cancelled().
  void cancel();
  bool isRunning() const { return process_ != nullptr; }
  double elapsedSeconds() const { return clock_.isValid() ? clock_.elapsed() / 1000.0 : 0.0; }
  const Request& request() const { return request_; }

 signals:
  /// stage: model | load | explain | done | reading (the GUI reading the result back).
  void progress(const QString& stage, double fraction);
  void finished(AnalysisRunner::ResultPtr result);
  /// reason: the worker's last error line (or why it could not start / be read back).
  void failed(const QString& reason);
  void cancelled();

 private:
  void onStderr();
  void onProcessFinished(int exitCode, bool crashed);
  void finishWithError(const QString& reason);
  void cleanup();

  QProcess* process_ = nullptr;
  std::unique_ptr<QTemporaryDir> tempDir_;
  Request request_;
  QElapsedTimer clock_;
  QString lastErrorLine_;
  QByteArray stderrBuffer_;
  unsigned generation_ = 0;
};
