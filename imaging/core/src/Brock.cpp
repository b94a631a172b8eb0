#include "clinical/Brock.h"

#include <cmath>

namespace clinical {

double brockLogit(const BrockInput& in) {
  double x = -6.7892;
  x += 0.0287 * (in.ageYears - 62.0);
  x += 0.6011 * (in.female ? 1 : 0);
  x += 0.2961 * (in.familyHistory ? 1 : 0);
  x += 0.2953 * (in.emphysema ? 1 : 0);
  x += -5.3854 * (std::pow(in.diameterMm / 10.0, -0.5) - 1.58113883);
  x += 0.377 * (in.type == NoduleType::PartSolid ? 1 : 0);
  x += -0.1276 * (in.type == NoduleType::NonSolid ? 1 : 0);
  x += 0.6581 * (in.upperLobe ? 1 : 0);
  x += -0.0824 * (in.noduleCount - 4);
  x += 0.7729 * (in.spiculated ? 1 : 0);
  return x;
}

double brockProbability(const BrockInput& in) { return 1.0 / (1.0 + std::exp(-brockLogit(in))); }

}  // namespace clinical
