#pragma once
/// Model: the MedSeek multimodal (chest CT + clinical note) lung-cancer risk model, inference runtime.
/// No torch in this header: the app links it like any library.
///
///   auto model = multimodal::Model::load(multimodal::Model::defaultPath());   // throws ModelError
///   multimodal::CaseInput in;
///   in.volume = &ct;                   // imaging::CtVolume (HU, LPS); nullptr = note only
///   in.note = noteUtf8;                // English or Chinese; empty = image only
///   multimodal::Prediction p = model.predict(in);
///   if (p.outOfScope) show(p.outOfScopeReason); else show(p.probability, p.imageShare, p.topExperts);
///
/// The device is chosen once at load (CUDA when available, else CPU); inference runs in eval mode
/// without gradients, bf16 autocast on CUDA, the given thread count on CPU. Probabilities are calibrated
/// by the temperature stored in the weights. Out-of-scope inputs (no lungs, slices > 3 mm, z coverage
/// < 150 mm, oblique) are reported, not scored. Research use only, not for clinical use.
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imaging/CtVolume.h"
#include "multimodal/ModelError.h"
#include "multimodal/Preprocessing.h"

namespace multimodal {

inline constexpr const char* kModelVersion = "medseek-moe-1";

struct ModelOptions {
  std::string device = "auto";  ///< "auto" (CUDA if available), "cpu", "cuda"
  int cpuThreads = 0;           ///< CPU intra-op threads (process-wide); 0: all cores
  bool autocast = true;         ///< bf16 autocast on CUDA
  int maxBatch = 16;            ///< cases per forward pass in predict(vector)
  /// CUDA: cuDNN times its convolution algorithms for each new input shape and keeps the fastest
  /// (process-wide; the first pass of each shape pays for the timing). No effect on the CPU.
  bool cudnnAutotune = false;
};

struct CaseInput {
  const imaging::CtVolume* volume = nullptr;             ///< nullptr: no image
  const PreprocessedVolume* preprocessed = nullptr;      ///< already preprocessed image (skips preprocessing)
  std::string note;                                      ///< empty: no note
};

struct ExpertChoice {
  int expert = -1;
  double weight = 0;
};

struct ImageFindings {  ///< auxiliary heads on the image branch (most suspicious nodule)
  double noduleProbability = 0;
  double diameterMm = 0;
  std::string type;  ///< "solid" | "part_solid" | "non_solid"
  std::array<double, 3> typeProbabilities{};
  std::string lobe;  ///< "RUL" | "RML" | "RLL" | "LUL" | "LLL"
  std::array<double, 5> lobeProbabilities{};
  double spiculationProbability = 0;
  double emphysemaProbability = 0;
  int noduleCount = 0;  ///< 0..3 (3 = three or more)
};

struct NoteFactors {  ///< record factors read from the note
  double ageYears = 0;
  double femaleProbability = 0;
  double familyHistoryProbability = 0;
  std::string smoking;  ///< "never" | "former" | "current"
  std::array<double, 3> smokingProbabilities{};
  double priorCancerProbability = 0;
};

struct Prediction {
  bool outOfScope = false;
  std::string outOfScopeReason;
  double probability = 0;       ///< calibrated cancer probability (NaN when out of scope)
  double logit = 0;             ///< calibrated logit (raw / temperature)
  double rawLogit = 0;
  bool usedImage = false, usedText = false;
  double imageShare = 0, textShare = 0;  ///< modality gate, sums to 1
  std::array<ExpertChoice, 2> topExperts{};
  std::vector<double> routing;  ///< weight per expert (0 outside the top 2)
  ImageFindings image;          ///< valid when usedImage
  NoteFactors note;             ///< valid when usedText
  double preprocessSeconds = 0, modelSeconds = 0;
};

struct ModelInfo {
  std::string path, modelVersion, device, torchVersion, vocabHash;
  double temperature = 1;
  int gridSize = 0;
  double spacingMm = 0;
  long long parameters = 0;
  bool dense = false;
  std::map<std::string, std::string> metadata;
};

namespace detail {
struct LoadedNetwork;
}

class Model {
 public:
  /// Loads weights (format .msw). Throws ModelError for a missing, corrupt, truncated or
  /// wrong-version file, or an unavailable device.
  static Model load(const std::string& path, const ModelOptions& options = {});
  /// resources/models/medseek-moe-v1.msw of the source tree, or $MEDSEEK_MODEL when set.
  static std::string defaultPath();

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  Prediction predict(const CaseInput& input);
  std::vector<Prediction> predict(const std::vector<CaseInput>& inputs);
  const ModelInfo& info() const;
  const PreprocessOptions& preprocessOptions() const;

  /// Torch-level access for the explain library (see multimodal/detail/ModelAccess.h).
  detail::LoadedNetwork& network();

 private:
  Model();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace multimodal
