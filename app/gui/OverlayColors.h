#pragma once
/// OverlayColors: the overlay colour maps (jet, hot) as RGB in [0,1] for a parameter t in [0,1], shared by
/// the 2-D lookup table (SliceView) and the 3-D transfer function (VolumeView) so both look the same.
#include <algorithm>
#include <array>

#include "gui/ViewTypes.h"

inline std::array<double, 3> overlayRgb(OverlayColormap map, double t) {
  t = std::clamp(t, 0.0, 1.0);
  if (map == OverlayColormap::Hot)
    return {std::clamp(3 * t, 0.0, 1.0), std::clamp(3 * t - 1, 0.0, 1.0), std::clamp(3 * t - 2, 0.0, 1.0)};
  // MATLAB-style jet: dark blue -> blue -> cyan -> yellow -> red -> dark red.
  auto ramp = [t](double centre) { return std::clamp(1.5 - 4 * std::abs(t - centre), 0.0, 1.0); };
  return {ramp(0.75), ramp(0.5), ramp(0.25)};
}
