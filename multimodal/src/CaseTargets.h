#pragma once
// Training/evaluation targets of one phantom case, and note augmentation (private, torch-free).
#include <array>
#include <cstdint>
#include <vector>
#include <random>
#include <string>

#include "phantom/CohortGenerator.h"

namespace multimodal::internal {
struct CaseTargets {
  bool nodule = false;
  double diameterMm = 0;  ///< most suspicious nodule (highest Brock probability)
  int type = 0;           ///< 0 solid, 1 part-solid, 2 non-solid
  int lobe = 0;           ///< RUL RML RLL LUL LLL
  bool spiculated = false;
  bool emphysema = false;
  int count = 0;          ///< 0..3 (3 = three or more)
  double age = 0;
  bool female = false, familyHistory = false, priorCancer = false;
  int smoking = 0;        ///< never, former, current
  double softTarget = 0;  ///< 1 - prod(1 - p_i): the probability that any nodule is malignant
  bool cancer = false;
  double oracle = 0;      ///< study-level Brock probability as the generator reports it
  bool chinese = false;
  std::vector<std::array<double, 3>> noduleCentersLps;
};
CaseTargets targetsOf(const phantom::Case& c);

/// Meaning-preserving variant of a note: synonym swaps, sentence reordering, a few typos.
std::string augmentNote(const std::string& note, std::mt19937_64& rng);
}  // namespace multimodal::internal
