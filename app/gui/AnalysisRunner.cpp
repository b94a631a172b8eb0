#include "gui/AnalysisRunner.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include "workflow/AnalysisJson.h"

AnalysisRunner::AnalysisRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<AnalysisRunner::ResultPtr>("AnalysisRunner::ResultPtr");
}

AnalysisRunner::~AnalysisRunner() {
  if (process_) {
    process_->disconnect(this);
    process_->kill();
    process_->waitForFinished(2000);
  }
}

QString AnalysisRunner::findCli() {
  const QString env = qEnvironmentVariable("MEDSEEK_CLI");
  if (!env.isEmpty()) return QFileInfo(env).isExecutable() ? env : QString();
  const QDir dir(QCoreApplication::applicationDirPath());
  for (const QString& candidate : {dir.filePath("medseek-cli"), dir.filePath("../medseek-cli")}) {
    const QFileInfo info(candidate);
    if (info.isFile() && info.isExecutable()) return info.canonicalFilePath();
  }
  return {};
}

bool AnalysisRunner::start(const Request& request) {
  if (process_) return false;
  ++generation_;
  request_ = request;
  lastErrorLine_.clear();
  stderrBuffer_.clear();
  clock_.start();
  const QString cli = findCli();
  if (cli.isEmpty()) {
    QMetaObject::invokeMethod(
        this,
        [this] {
          emit failed(tr("medseek-cli (the analysis worker) was not found beside medseek; set MEDSEEK_CLI"));
        },
        Qt::QueuedConnection);
    return true;
  }
  tempDir_ = std::make_unique<QTemporaryDir>(QDir::temp().filePath("medseek-analysis-XXXXXX"));
  if (!tempDir_->isValid()) {
    QMetaObject::invokeMethod(
        this, [this] { emit failed(tr("cannot create a temporary folder for the analysis")); },
        Qt::QueuedConnection);
    return true;
  }
  QStringList args{"analyze",  request.studyPath, "--json", "--progress",
                   "--device", request.device,    "--cam",  tempDir_->filePath("cam.mha")};
  args << "--lang" << request.language;
  if (!request.seriesUid.isEmpty()) args << "--series" << request.seriesUid;
  if (request.noteText) {
    QFile note(tempDir_->filePath("note.txt"));
    if (!note.open(QIODevice::WriteOnly) || note.write(request.noteText->toUtf8()) < 0) {
      QMetaObject::invokeMethod(
          this, [this] { emit failed(tr("cannot write the edited note to a temporary file")); },
          Qt::QueuedConnection);
      return true;
    }
    args << "--note" << note.fileName();
  }
  process_ = new QProcess(this);
  process_->setProcessChannelMode(QProcess::SeparateChannels);
  connect(process_, &QProcess::readyReadStandardError, this, &AnalysisRunner::onStderr);
  connect(process_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    onProcessFinished(code, status == QProcess::CrashExit);
  });
  connect(process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart)
      finishWithError(tr("the analysis worker could not be started: %1").arg(process_->errorString()));
  });
  emit progress(QStringLiteral("model"), 0);
  process_->start(cli, args);
  return true;
}

void AnalysisRunner::cancel() {
  if (!process_) return;
  ++generation_;  // a result still being read back is dropped
  process_->disconnect(this);
  process_->kill();
  process_->waitForFinished(2000);
  cleanup();
  emit cancelled();
}

void AnalysisRunner::onStderr() {
  stderrBuffer_ += process_->readAllStandardError();
  int nl;
  while ((nl = stderrBuffer_.indexOf('\n')) >= 0) {
    const QString line = QString::fromUtf8(stderrBuffer_.left(nl)).trimmed();
    stderrBuffer_.remove(0, nl + 1);
    if (line.startsWith(QLatin1String("progress "))) {
      const QStringList parts = line.split(' ', Qt::SkipEmptyParts);
      if (parts.size() >= 3) emit progress(parts[1], parts[2].toDouble());
    } else if (!line.isEmpty()) {
      lastErrorLine_ = line;
    }
  }
}

void AnalysisRunner::finishWithError(const QString& reason) {
  if (process_) process_->disconnect(this);
  cleanup();
  emit failed(reason);
}

void AnalysisRunner::cleanup() {
  if (process_) {
    process_->deleteLater();
    process_ = nullptr;
  }
  tempDir_.reset();
}

void AnalysisRunner::onProcessFinished(int exitCode, bool crashed) {
  onStderr();
  if (!stderrBuffer_.trimmed().isEmpty()) lastErrorLine_ = QString::fromUtf8(stderrBuffer_).trimmed();
  const QByteArray out = process_->readAllStandardOutput();
  process_->disconnect(this);
  if (crashed || (exitCode != 0 && exitCode != 1) || out.trimmed().isEmpty()) {
    const QString why = lastErrorLine_.isEmpty()
                            ? tr("the analysis worker %1 (exit code %2) without a message")
                                  .arg(crashed ? tr("crashed") : tr("stopped"))
                                  .arg(exitCode)
                            : lastErrorLine_;
    finishWithError(why);
    return;
  }
  // Exit code 1 with a JSON result: the case is out of scope (shown as such, not as an error).
  emit progress(QStringLiteral("reading"), 0);
  const QString camFile = tempDir_->filePath("cam.mha");
  const std::string json = out.toStdString(), cam = camFile.toStdString();
  const imaging::VolumeGeometry grid = request_.ctGrid;
  auto state = std::make_shared<std::pair<ResultPtr, QString>>();
  // Parsing and reading the heatmap (up to a few hundred MB) happen off the GUI thread.
  QThread* reader = QThread::create([state, json, cam, grid] {
    try {
      auto r = std::make_shared<workflow::AnalysisResult>(workflow::analysisFromJson(json));
      if (QFile::exists(QString::fromStdString(cam))) {  // absent when the worker made no heatmap
        explain::Heatmap values = workflow::readHeatmapMha(cam, grid);
        r->explanation.heatmap.geometry = values.geometry;
        r->explanation.heatmap.values = std::move(values.values);
      }
      state->first = std::move(r);
    } catch (const std::exception& e) {
      state->second = QString::fromUtf8(e.what());
    }
  });
  connect(reader, &QThread::finished, this, [this, reader, state, generation = generation_] {
    reader->deleteLater();
    if (generation != generation_) return;  // cancelled meanwhile
    cleanup();
    if (state->first)
      emit finished(state->first);
    else
      emit failed(state->second);
  });
  reader->start();
}
