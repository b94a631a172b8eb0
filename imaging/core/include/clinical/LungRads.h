#pragma once
/// Lung-RADS v2022 (ACR) baseline category of nodules (rules in shared/DOMAIN.md). Used for the
/// cohort's ground truth (phantom) and for the analysis report (explain). No dependency.
///
///   clinical::LungRadsNodule n{clinical::NoduleType::Solid, 9.0, 9.0};
///   clinical::lungRadsCategory(n);        // Category::C4A
///   clinical::toString(Category::C4A);    // "4A"
#include <string>
#include <vector>

#include "clinical/Brock.h"

namespace clinical {

enum class LungRadsCategory { C0, C1, C2, C3, C4A, C4B, C4X };

struct LungRadsNodule {
  NoduleType type = NoduleType::Solid;
  double meanDiameterMm = 0;   ///< whole nodule, mean of long and short axis
  double solidDiameterMm = 0;  ///< solid component (part-solid); equals mean diameter for solid
  bool calcified = false;      ///< benign calcification pattern -> category 2 whatever the size
};

/// Category of one baseline nodule.
LungRadsCategory lungRadsCategory(const LungRadsNodule& nodule);
/// Exam category: the most suspicious nodule; no nodule -> 1.
LungRadsCategory lungRadsExamCategory(const std::vector<LungRadsNodule>& nodules);
std::string toString(LungRadsCategory c);
/// ACR management recommendation for the category (English).
std::string management(LungRadsCategory c);
/// 3 and 4x are positive screens.
bool isPositive(LungRadsCategory c);

}  // namespace clinical
