#pragma once
/// Analyzer: runs the model and the explainer on a study (target workflow_analysis, links LibTorch).
/// Used by `medseek-cli analyze`, `report` and `screen`; the GUI runs it out of process through
/// `medseek-cli analyze --json` so that Debian's LibTorch (which loads Qt 5) never enters the Qt 6 GUI.
/// No torch in this header.
#include <memory>
#include <string>
#include <vector>

#include "workflow/Analysis.h"

namespace multimodal {
class Model;
struct PreprocessedVolume;
}
namespace explain {
struct ModelPass;
}

namespace workflow {

class Analyzer {
 public:
  explicit Analyzer(const AnalysisOptions& options);
  ~Analyzer();
  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  /// Loads the study at `path` and explains it. `progress` may cancel the loading.
  AnalysisResult analyze(const std::string& path, const ProgressFn& progress = {});
  /// Explains an already loaded study (the caller holds the volume, e.g. the batch pipeline).
  AnalysisResult analyze(LoadedStudy study, const NoteText& note);
  /// Same, on an image already preprocessed with model().preprocessOptions() (e.g. on a worker thread
  /// of the batch pipeline, so that the model thread only runs the network and the explanation).
  AnalysisResult analyze(LoadedStudy study, const NoteText& note,
                         const multimodal::PreprocessedVolume* preprocessed);
  multimodal::Model& model();

  /// The batch pipeline's two halves (analyze() is the two in a row): the model part of several studies as
  /// one batch on the thread that owns the Analyzer, then the rest of each (measuring on the CT, note
  /// evidence, narrative) on any thread, several at once. The pointed-to studies, notes and preprocessed
  /// images must outlive finish(). Throws explain::ExplainError when the model fails (for the whole batch).
  struct BatchCase {
    const LoadedStudy* study = nullptr;
    const NoteText* note = nullptr;
    const multimodal::PreprocessedVolume* preprocessed = nullptr;  ///< nullptr: preprocessed in runModel
  };
  std::vector<std::shared_ptr<const explain::ModelPass>> runModel(const std::vector<BatchCase>& cases);
  /// Thread-safe (reads the model's settings only). `modelSeconds`: the study's share of the batch.
  AnalysisResult finish(LoadedStudy study, const NoteText& note, const multimodal::PreprocessedVolume* preprocessed,
                        const explain::ModelPass& pass) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One-shot convenience: loads the model, analyzes one study.
AnalysisResult analyzeStudy(const std::string& path, const AnalysisOptions& options = {});

}  // namespace workflow
