#include "clinical/LungRads.h"

#include <algorithm>

namespace clinical {

LungRadsCategory lungRadsCategory(const LungRadsNodule& n) {
  using C = LungRadsCategory;
  if (n.calcified) return C::C2;
  switch (n.type) {
    case NoduleType::Solid:
      if (n.meanDiameterMm < 6) return C::C2;
      if (n.meanDiameterMm < 8) return C::C3;
      if (n.meanDiameterMm < 15) return C::C4A;
      return C::C4B;
    case NoduleType::PartSolid:
      if (n.meanDiameterMm < 6) return C::C2;
      if (n.solidDiameterMm < 6) return C::C3;
      if (n.solidDiameterMm < 8) return C::C4A;
      return C::C4B;
    case NoduleType::NonSolid:
      return n.meanDiameterMm < 30 ? C::C2 : C::C3;
  }
  return C::C0;
}

LungRadsCategory lungRadsExamCategory(const std::vector<LungRadsNodule>& nodules) {
  LungRadsCategory worst = LungRadsCategory::C1;
  for (const auto& n : nodules) worst = std::max(worst, lungRadsCategory(n));
  return worst;
}

std::string toString(LungRadsCategory c) {
  switch (c) {
    case LungRadsCategory::C0: return "0";
    case LungRadsCategory::C1: return "1";
    case LungRadsCategory::C2: return "2";
    case LungRadsCategory::C3: return "3";
    case LungRadsCategory::C4A: return "4A";
    case LungRadsCategory::C4B: return "4B";
    case LungRadsCategory::C4X: return "4X";
  }
  return "0";
}

std::string management(LungRadsCategory c) {
  switch (c) {
    case LungRadsCategory::C0: return "Incomplete: additional imaging or comparison needed";
    case LungRadsCategory::C1: return "Negative: continue annual screening with LDCT in 12 months";
    case LungRadsCategory::C2: return "Benign appearance: continue annual screening with LDCT in 12 months";
    case LungRadsCategory::C3: return "Probably benign: 6-month LDCT";
    case LungRadsCategory::C4A:
      return "Suspicious: 3-month LDCT; PET/CT may be used when there is a solid component >= 8 mm";
    case LungRadsCategory::C4B:
    case LungRadsCategory::C4X:
      return "Very suspicious: diagnostic chest CT with or without contrast, PET/CT and/or tissue "
             "sampling";
  }
  return {};
}

bool isPositive(LungRadsCategory c) { return c >= LungRadsCategory::C3; }

}  // namespace clinical
