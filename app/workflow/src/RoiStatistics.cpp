#include "workflow/RoiStatistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace workflow {
namespace {

void checkAxis(int normalAxis) {
  if (normalAxis < 0 || normalAxis > 2)
    throw std::invalid_argument("ROI normal axis must be 0, 1 or 2, not " + std::to_string(normalAxis));
}

/// In-plane axes (u, v) of a plane with the given normal axis.
std::array<int, 2> planeAxes(int normalAxis) {
  return normalAxis == 0 ? std::array<int, 2>{1, 2}
                         : (normalAxis == 1 ? std::array<int, 2>{0, 2} : std::array<int, 2>{0, 1});
}

/// Visits the voxels of the plane with u in [u0,u1], v in [v0,v1] (clipped) that `inside(u,v)` accepts.
template <typename Inside>
RoiStatistics accumulate(const imaging::CtVolume& volume, int normalAxis, int slice, double uLo, double uHi,
                         double vLo, double vHi, Inside inside) {
  RoiStatistics s;
  const auto& g = volume.geometry();
  if (volume.empty() || slice < 0 || slice >= g.size[normalAxis]) return s;
  const auto [au, av] = planeAxes(normalAxis);
  const int u0 = std::max(0, static_cast<int>(std::ceil(uLo)));
  const int u1 = std::min(g.size[au] - 1, static_cast<int>(std::floor(uHi)));
  const int v0 = std::max(0, static_cast<int>(std::ceil(vLo)));
  const int v1 = std::min(g.size[av] - 1, static_cast<int>(std::floor(vHi)));
  double sum = 0, sum2 = 0;
  int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
  std::array<int, 3> ijk{};
  ijk[normalAxis] = slice;
  for (int v = v0; v <= v1; ++v)
    for (int u = u0; u <= u1; ++u) {
      if (!inside(u, v)) continue;
      ijk[au] = u;
      ijk[av] = v;
      const int hu = volume.at(ijk[0], ijk[1], ijk[2]);
      sum += hu;
      sum2 += static_cast<double>(hu) * hu;
      lo = std::min(lo, hu);
      hi = std::max(hi, hu);
      ++s.voxelCount;
    }
  if (s.voxelCount == 0) return s;
  const double n = static_cast<double>(s.voxelCount);
  s.meanHu = sum / n;
  s.sdHu = std::sqrt(std::max(0.0, sum2 / n - s.meanHu * s.meanHu));
  s.minHu = lo;
  s.maxHu = hi;
  s.areaMm2 = n * g.spacingMm[au] * g.spacingMm[av];
  return s;
}

}  // namespace

RoiStatistics computeRoiStatistics(const imaging::CtVolume& volume, const CircleRoi& roi) {
  checkAxis(roi.normalAxis);
  const auto& g = volume.geometry();
  const auto [au, av] = planeAxes(roi.normalAxis);
  const double cu = roi.centreIjk[au], cv = roi.centreIjk[av];
  const double su = g.spacingMm[au], sv = g.spacingMm[av];
  const double r = std::max(0.0, roi.radiusMm);
  const double ru = r / su, rv = r / sv;
  return accumulate(volume, roi.normalAxis, roi.slice, cu - ru, cu + ru, cv - rv, cv + rv, [&](int u, int v) {
    const double du = (u - cu) * su, dv = (v - cv) * sv;
    return du * du + dv * dv <= r * r;
  });
}

RoiStatistics computeRoiStatistics(const imaging::CtVolume& volume, const RectangleRoi& roi) {
  checkAxis(roi.normalAxis);
  const auto [au, av] = planeAxes(roi.normalAxis);
  const double uLo = std::min(roi.cornerAIjk[au], roi.cornerBIjk[au]);
  const double uHi = std::max(roi.cornerAIjk[au], roi.cornerBIjk[au]);
  const double vLo = std::min(roi.cornerAIjk[av], roi.cornerBIjk[av]);
  const double vHi = std::max(roi.cornerAIjk[av], roi.cornerBIjk[av]);
  return accumulate(volume, roi.normalAxis, roi.slice, uLo, uHi, vLo, vHi, [](int, int) { return true; });
}

double distanceMm(const imaging::VolumeGeometry& geometry, const std::array<double, 3>& ijkA,
                  const std::array<double, 3>& ijkB) {
  const auto a = geometry.lpsFromIjk(ijkA), b = geometry.lpsFromIjk(ijkB);
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace workflow
