#include "workflow/Analyzer.h"

#include <chrono>

#include "explain/Explainer.h"
#include "multimodal/Model.h"

namespace workflow {
namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

struct Analyzer::Impl {
  AnalysisOptions options;
  std::unique_ptr<multimodal::Model> model;
  std::unique_ptr<explain::Explainer> explainer;
};

Analyzer::Analyzer(const AnalysisOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  multimodal::ModelOptions mo;
  mo.device = options.device;
  mo.cpuThreads = options.threads;
  mo.cudnnAutotune = options.cudnnAutotune;
  impl_->model = std::make_unique<multimodal::Model>(
      multimodal::Model::load(options.modelPath.empty() ? multimodal::Model::defaultPath() : options.modelPath, mo));
  explain::ExplainOptions eo;
  eo.gradCamPlusPlus = options.gradCamPlusPlus;
  eo.heatmapOnCtGrid = options.heatmapOnCtGrid;
  eo.language = options.language;
  eo.threads = options.threads;
  eo.expertStatsPath = options.expertStatsPath;
  eo.cudaGraphs = options.cudaGraphs;
  impl_->explainer = std::make_unique<explain::Explainer>(*impl_->model, eo);
}
Analyzer::~Analyzer() = default;
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;
multimodal::Model& Analyzer::model() { return *impl_->model; }

AnalysisResult Analyzer::analyze(const std::string& path, const ProgressFn& progress) {
  const auto t0 = Clock::now();
  LoadedStudy study = loadStudySeries(path, impl_->options.seriesUid, progress);
  const double loadS = since(t0);
  NoteText note = findNote(path, impl_->options.noteFile, study);
  AnalysisResult r = analyze(std::move(study), note);
  r.loadSeconds = loadS;
  r.totalSeconds = since(t0);
  return r;
}

AnalysisResult Analyzer::analyze(LoadedStudy study, const NoteText& note) {
  return analyze(std::move(study), note, nullptr);
}

AnalysisResult Analyzer::analyze(LoadedStudy study, const NoteText& note,
                                 const multimodal::PreprocessedVolume* preprocessed) {
  const auto t0 = Clock::now();
  auto passes = runModel({{&study, &note, preprocessed}});
  AnalysisResult r = finish(std::move(study), note, preprocessed, *passes.front());
  r.analysisSeconds = since(t0);
  r.explanation.totalSeconds = r.analysisSeconds;
  r.totalSeconds = r.analysisSeconds;
  return r;
}

std::vector<std::shared_ptr<const explain::ModelPass>> Analyzer::runModel(const std::vector<BatchCase>& cases) {
  std::vector<explain::ExplainInput> in;
  in.reserve(cases.size());
  for (const auto& c : cases) {
    const imaging::CtVolume* volume = c.study ? c.study->volume.get() : nullptr;
    in.push_back({volume, volume ? c.preprocessed : nullptr, c.note ? c.note->text : std::string()});
  }
  return impl_->explainer->runModel(in);
}

AnalysisResult Analyzer::finish(LoadedStudy study, const NoteText& note,
                                const multimodal::PreprocessedVolume* preprocessed,
                                const explain::ModelPass& pass) const {
  const auto t0 = Clock::now();
  AnalysisResult r;
  r.study = std::move(study);
  r.note = note;
  const auto& info = impl_->model->info();
  r.modelPath = info.path;
  r.modelVersion = info.modelVersion;
  r.device = info.device;
  const imaging::CtVolume* volume = r.study.volume.get();
  r.explanation = impl_->explainer->finish({volume, volume ? preprocessed : nullptr, r.note.text}, pass);
  r.modelSha256 = r.explanation.modelSha256;
  if (r.note.text.empty())
    r.explanation.warnings.insert(r.explanation.warnings.begin(),
                                  "no clinical note was found (note.txt, fhir.json, DICOM history): image-only analysis");
  r.analysisSeconds = since(t0);
  r.totalSeconds = r.analysisSeconds;
  return r;
}

AnalysisResult analyzeStudy(const std::string& path, const AnalysisOptions& options) {
  const auto t0 = Clock::now();
  Analyzer a(options);
  AnalysisResult r = a.analyze(path);
  r.totalSeconds = since(t0);
  return r;
}

}  // namespace workflow
