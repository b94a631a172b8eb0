#pragma once
/// Explanation: the structured result of explaining one case (plain value types, no torch), shared by
/// the GUI (overlay + jump-to findings), the CLI (`medseek-cli analyze`) and the reports.
///
///   explain::Explainer ex(model);                       // see explain/Explainer.h
///   explain::Explanation e = ex.explain(&ct, note);
///   e.heatmap.values;            // the CAM on the ORIGINAL CT grid (same size/geometry as ct), 0..1
///   e.findings[0].centerLps;     // jump-to target (mm, DICOM LPS); sliceFirst..sliceLast = CT k range
///   e.lungRads; e.brock; e.narrative;                   // every sentence carries the facts it cites
///
/// Limitations: the heatmap comes from a 32^3 feature grid (block1, 10 mm cells at the 2.5 mm model grid)
/// gated by the last block's 16^3 Grad-CAM (20 mm cells), so its peak localises to a few millimetres, not a
/// voxel; the nodule itself is then measured on the CT around it.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "imaging/CtVolume.h"

namespace explain {

/// The class-activation heatmap resampled onto the CT grid, voxel for voxel: LayerCAM at the image encoder's
/// block1 (32^3) multiplied by the last block's Grad-CAM (or Grad-CAM++) (see Explainer.h), mapped with a
/// cubic B-spline so that its peak can fall between cell centres.
struct Heatmap {
  imaging::VolumeGeometry geometry;  ///< the CT's geometry (values are laid out like CtVolume)
  std::vector<float> values;         ///< 0..1 (max 1), i fastest; empty when no image was used
  std::string method;                ///< "layercam(block1) x grad-cam(block3)" | "... x grad-cam++(block3)"
  double rawMax = 0;                 ///< max of the last block's un-normalised CAM (0: no positive evidence)
  /// The heatmap on its own feature grid (cells x cells x cells, i fastest), 0..1, with its LPS frame.
  int cells = 0;
  double cellSpacingMm = 0;
  std::array<double, 3> cellOriginLps{};  ///< centre of cell (0,0,0)
  std::vector<float> cellValues;
  /// The last block's Grad-CAM (or Grad-CAM++) alone, 0..1, on its 16^3 grid (a factor of the heatmap).
  int lastBlockCells = 0;
  double lastBlockCellSpacingMm = 0;
  std::array<double, 3> lastBlockCellOriginLps{};
  std::vector<float> lastBlockCellValues;
};

/// One suspicious region: the CAM component and the nodule measured on the CT inside it.
struct Finding {
  int rank = 0;                        ///< 1 = culprit (highest CAM peak)
  double camPeak = 0;                  ///< 0..1
  std::array<double, 3> camPeakLps{};  ///< mm
  double camRegionMl = 0;              ///< volume of the CAM component above the threshold
  bool measured = false;               ///< a nodule-like structure was found and measured on the CT
  std::array<double, 3> centerLps{};   ///< nodule centroid (or the CAM peak when not measured)
  int sliceFirst = -1, sliceLast = -1; ///< CT slice indices (k) the nodule (or CAM region) spans
  double diameterMm = 0;               ///< mean of long and short axis on the axial slice of largest area
  double longAxisMm = 0, shortAxisMm = 0;
  double solidDiameterMm = 0;          ///< solid component (part-solid), = diameter for solid
  double volumeMl = 0;
  double meanHu = 0;
  double solidFraction = 0;            ///< share of nodule voxels above -300 HU
  std::string type;                    ///< "solid" | "part_solid" | "non_solid" (from the HU distribution)
  std::string lobe;                    ///< "RUL" ... from position (see lobeRule)
  double fissureDistanceMm = 0;        ///< distance to the nearest fissure of the reference anatomy
  std::string lobeRule;                ///< how the lobe was decided
  double camInsideNodule = 0;          ///< mean CAM inside the nodule mask (0..1)
  // Auxiliary heads of the model (image branch), for agreement:
  std::string headType, headLobe;
  double headDiameterMm = 0;
  bool typeAgrees = false, lobeAgrees = false, diameterAgrees = false;  ///< diameter within 3 mm
};

/// One word or phrase of the note with its contribution to the cancer logit (gradient x input).
struct NoteSpan {
  std::string text;
  std::size_t begin = 0, end = 0;  ///< byte span in the note (UTF-8)
  double score = 0;                ///< signed: > 0 raised the score
  bool negated = false;            ///< the phrase is negated ("denies ...", "无...")
};

struct NoteAttributions {
  std::string method;  ///< "gradient x input" | "integrated gradients (N steps)"
  std::vector<NoteSpan> words;    ///< in note order
  std::vector<NoteSpan> phrases;  ///< clauses split at punctuation, in note order
  double totalAbs = 0;            ///< sum of |token scores|
  bool truncated = false;         ///< the note was longer than the model reads
};

/// A record factor read from the note by the model's note heads, with the phrase that moved it most.
struct RecordFactor {
  std::string name;      ///< "age" | "sex" | "family_history" | "smoking"
  std::string value;     ///< "67" | "female" | "yes"/"no" | "current"
  double probability = 0;  ///< confidence of the head for value (age: 1)
  std::string evidencePhrase;  ///< phrase with the largest attribution to this head (empty if none)
  std::size_t evidenceBegin = 0, evidenceEnd = 0;
  bool evidenceNegated = false;
};

struct ExpertSummary {
  int expert = -1;
  double weight = 0;
  std::string specialty;  ///< from evaluation statistics, or "no statistics available"
};

struct RoutingSummary {
  double imageShare = 0, textShare = 0;
  std::vector<ExpertSummary> experts;  ///< top-2
  bool statisticsAvailable = false;
  std::string statisticsSource;        ///< file and cohort the statistics come from
};

struct BrockResult {
  bool computed = false;
  std::string reason;  ///< why not computed
  double probability = 0;
  double ageYears = 0;
  bool female = false, familyHistory = false, emphysema = false, upperLobe = false, spiculated = false;
  double diameterMm = 0;
  std::string type;
  int noduleCount = 0;
  /// Brock probability with each note factor set to its opposite (what it changed), e.g. family history.
  double withoutFamilyHistory = 0, ageAt62 = 0;
};

/// One narrative sentence and the structured facts (key -> value as printed) it rests on.
struct Sentence {
  std::string text;
  std::vector<std::pair<std::string, std::string>> facts;
};

struct Explanation {
  bool usedImage = false, usedNote = false;
  bool outOfScope = false;
  std::string outOfScopeReason;
  double probability = 0, logit = 0;
  RoutingSummary routing;
  Heatmap heatmap;
  std::vector<Finding> findings;   ///< culprit first
  NoteAttributions note;
  std::vector<RecordFactor> recordFactors;
  std::string lungRadsCategory;    ///< "1", "2", "3", "4A", "4B"
  std::string lungRadsManagement;
  std::string lungRadsBasis;       ///< which measured nodule (or none) the category rests on
  BrockResult brock;
  std::string language = "en";     ///< narrative language
  std::vector<Sentence> narrative;
  std::vector<std::string> warnings;
  std::string modelSha256;         ///< identity of the weights the result came from
  double camSeconds = 0, forwardSeconds = 0, preprocessSeconds = 0, findingsSeconds = 0, totalSeconds = 0;
  // Auxiliary image heads (raw), for display:
  double headNoduleProbability = 0, headSpiculationProbability = 0, headEmphysemaProbability = 0;
  int headNoduleCount = 0;

  std::string narrativeText() const;  ///< sentences joined by spaces
};

}  // namespace explain
