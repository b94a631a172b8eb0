#pragma once
/// Explainer: runs the model once with gradients to the image encoder's block1 output, its last block's
/// output and the note's token embeddings, and turns that into a checkable Explanation (heatmap on the CT
/// grid, culprit findings measured on the CT, note attributions, routing summary, Lung-RADS, Brock,
/// narrative). No torch in this header (pimpl).
///
/// Heatmap: LayerCAM (Jiang et al., IEEE TIP 2021) at block1's output (32^3 cells of 10 mm), multiplied by
/// the last block's Grad-CAM (Selvaraju et al. 2017; Grad-CAM++ with gradCamPlusPlus) resized onto that
/// grid, then mapped onto the CT with a cubic B-spline (its peak can lie between cell centres). The last
/// block's CAM alone (16^3, 20 mm) is too coarse for its peak to land inside most nodules; LayerCAM's
/// element-wise gradient weights keep block1's localisation, and the product keeps the last block's
/// class evidence (Heatmap::lastBlockCellValues holds it alone).
///
///   auto model = multimodal::Model::load(multimodal::Model::defaultPath());
///   explain::ExplainOptions opt;  opt.language = "zh";
///   explain::Explainer ex(model, opt);
///   explain::Explanation e = ex.explain(&ct, noteUtf8);   // ct may be nullptr (note only), note may be ""
///
/// Cost: one forward of stem + block1 without gradients, block2, block3 and the heads with gradients, and a
/// backward from the logit to block1's output only (activation gradients, no parameter gradients):
/// 1.2-1.3 x one forward on the CPU (evaluate-explain). Limitations: 10 mm cells (the peak localises to a few
/// mm); the B-spline mapping smooths the map by about one cell.
///
/// Batches (the screening pipeline): the model part of several cases runs as one batched pass on the
/// model's thread, the rest (mapping, measuring on the CT, note evidence, narrative) on any thread:
///
///   std::vector<explain::ExplainInput> in = {{&ct1, &pre1, note1}, {&ct2, &pre2, note2}};
///   auto passes = ex.runModel(in);                          // one forward + one backward for the batch
///   explain::Explanation e1 = ex.finish(in[0], *passes[0]); // thread-safe, no model access
///
/// explain(ct, note) is exactly runModel on one case followed by finish. In eval mode the cases of a batch
/// do not interact (the MoE applies no capacity limit at inference), so a case's explanation does not
/// depend on its batch-mates beyond float rounding.
#include <memory>
#include <string>
#include <vector>

#include "explain/Explanation.h"
#include "imaging/CtVolume.h"
#include "multimodal/Preprocessing.h"

namespace multimodal {
class Model;
}

namespace explain {

struct ExplainOptions {
  bool gradCamPlusPlus = false;    ///< Grad-CAM++ weights instead of Grad-CAM's mean gradients
  bool heatmapOnCtGrid = true;     ///< false: keep only the feature-grid CAM (faster, e.g. for batch)
  double camThreshold = 0.5;       ///< CAM components are regions >= threshold * max
  int maxFindings = 3;
  int integratedGradientSteps = 0; ///< 0: gradient x input (shares the CAM pass); > 0: IG on the embeddings
  std::string language = "en";     ///< narrative: "en" | "zh"
  std::string expertStatsPath;     ///< empty: <weights dir>/expert_stats.json when present
  int threads = 0;                 ///< CPU threads for mapping/measuring; 0 = hardware concurrency
  /// Model on CUDA, one case per runModel call (analyze, the GUI), gradient x input attributions: the
  /// network's pass (forward, Grad-CAM and note gradients) is captured once per input shape as a CUDA graph
  /// and replayed, without eager LibTorch's per-operation launch cost, which dominates at batch 1. Notes are
  /// then padded to a multiple of 64 tokens (masked: the same result up to rounding). Any capture failure
  /// falls back to the eager pass for the rest of the Explainer's life. Off: always eager.
  bool cudaGraphs = true;
};

/// Explainer::timeForwardVersusCam's medians, in seconds. The parts (eager timing only, else 0) are timed
/// in separate synchronised runs of the Grad-CAM pass: its forward (recording autograd from block1's output
/// on), the gradients to block1's and the last block's outputs, and the two maps; lastBlockGradientSeconds
/// is the gradient to the last block's output alone, for comparison (what Grad-CAM of that block would cost
/// without block1's LayerCAM).
struct CamTiming {
  double forwardSeconds = 0, camSeconds = 0;
  double camForwardSeconds = 0, camGradientSeconds = 0, camMapSeconds = 0, lastBlockGradientSeconds = 0;
};

/// One case of a batched explanation. The pointers must stay valid until finish() has returned.
struct ExplainInput {
  const imaging::CtVolume* volume = nullptr;                      ///< nullptr: note only
  const multimodal::PreprocessedVolume* preprocessed = nullptr;   ///< nullptr: preprocessed by runModel
  std::string note;                                               ///< empty: image only
};

/// The model part of one case's explanation (network heads, CAM cells, note scores, the occlusion
/// forwards of its phrases), in plain types; made by Explainer::runModel, read by Explainer::finish.
struct ModelPass;

/// Intermediate results usable by faithfulness checks (no torch).
struct RawExplanation {
  double logit = 0, probability = 0;
  std::vector<float> camCells;  ///< cells^3: the heatmap's cells (product of the two max-normalised CAMs)
  int cells = 0;
};

class Explainer {
 public:
  /// The model must outlive the Explainer.
  explicit Explainer(multimodal::Model& model, ExplainOptions options = {});
  ~Explainer();
  Explainer(Explainer&&) noexcept;
  Explainer& operator=(Explainer&&) noexcept;

  /// Throws ExplainError when neither image nor note is given.
  Explanation explain(const imaging::CtVolume* volume, const std::string& note);
  /// Same, on an already preprocessed volume (the CT is still needed for mapping and measuring).
  Explanation explain(const imaging::CtVolume* volume, const multimodal::PreprocessedVolume* pre,
                      const std::string& note);

  /// The model part for several cases as one batch (on the thread that uses the model). Out-of-scope
  /// images are reported in their pass without running the network. Throws ExplainError for a case
  /// with neither image nor note, or when the model fails (then no pass of the batch is valid).
  /// Per-case forwardSeconds/camSeconds are the batch's times divided by its size (a CUDA graph replay,
  /// see ExplainOptions::cudaGraphs, runs both at once: its time is all forwardSeconds).
  std::vector<std::shared_ptr<const ModelPass>> runModel(const std::vector<ExplainInput>& cases);
  /// The rest of the explanation from a pass of `runModel` for the same input. Thread-safe: uses no
  /// model and no mutable state, so several cases can be finished at once on worker threads.
  Explanation finish(const ExplainInput& input, const ModelPass& pass) const;

  /// Only the score and the feature-grid CAM (for sanity checks); randomisedWeights: a freshly
  /// initialised network of the same architecture (seeded) replaces the trained one.
  RawExplanation camOnly(const multimodal::PreprocessedVolume& pre, const std::string& note,
                         bool randomisedWeights = false, unsigned seed = 1);
  /// Calibrated probability only (no gradients), e.g. after an edit of the image.
  double score(const multimodal::PreprocessedVolume& pre, const std::string& note);

  /// Seconds of one plain forward pass (no gradients) and of the Grad-CAM pass on this input, repeated
  /// `batch` times in one batch (medians of `repeats`; autocast as the model is configured).
  /// cudaGraphs (model on CUDA, a CUDA build): both passes captured once as CUDA graphs and timed as graph
  /// replays, i.e. the GPU's work without the per-operation launch cost of eager LibTorch; throws
  /// ExplainError where that is not available. Eager timing also splits the Grad-CAM pass into its parts.
  CamTiming timeForwardVersusCam(const multimodal::PreprocessedVolume& pre, const std::string& note, int repeats = 3,
                                 int batch = 1, bool cudaGraphs = false);

  const ExplainOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ExplainOptions options_;
};

}  // namespace explain

namespace explain {
/// Writes a randomly initialised network of the default architecture (seeded), with a vocabulary learned
/// from `notes`, to `path` (.msw). For the weight-randomisation sanity check and for tests that need a
/// model without trained weights. Throws ExplainError.
void writeRandomModel(const std::string& path, const std::vector<std::string>& notes, unsigned seed = 1);
}  // namespace explain
