#include "imaging/CtVolume.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace imaging {

std::array<double, 3> VolumeGeometry::lpsFromIjk(const std::array<double, 3>& ijk) const {
  std::array<double, 3> out = originLps;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r] += directionLps[r * 3 + c] * spacingMm[c] * ijk[c];
  return out;
}

std::array<double, 3> VolumeGeometry::ijkFromLps(const std::array<double, 3>& lps) const {
  // Direction matrix is orthonormal for every grid we build or accept, so its inverse is its transpose.
  std::array<double, 3> d{lps[0] - originLps[0], lps[1] - originLps[1], lps[2] - originLps[2]};
  std::array<double, 3> out{};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += directionLps[r * 3 + c] * d[r];
    out[c] = s / spacingMm[c];
  }
  return out;
}

bool VolumeGeometry::sameGridAs(const VolumeGeometry& o, double tol) const {
  if (size != o.size) return false;
  for (int a = 0; a < 3; ++a) {
    if (std::abs(spacingMm[a] - o.spacingMm[a]) > tol) return false;
    if (std::abs(originLps[a] - o.originLps[a]) > tol) return false;
  }
  for (int e = 0; e < 9; ++e)
    if (std::abs(directionLps[e] - o.directionLps[e]) > 1e-6) return false;
  return true;
}

CtVolume::CtVolume(const VolumeGeometry& geometry, Values valuesHu)
    : geometry_(geometry), valuesHu_(std::move(valuesHu)) {
  if (valuesHu_.size() != geometry_.voxelCount())
    throw std::invalid_argument("CtVolume: " + std::to_string(valuesHu_.size()) +
                                " voxels given for a grid of " +
                                std::to_string(geometry_.voxelCount()));
}

CtVolume CtVolume::uninitialized(const VolumeGeometry& geometry) {
  CtVolume v;
  v.geometry_ = geometry;
  v.valuesHu_.resize(geometry.voxelCount());  // default-initialised: no write, no page touched
  return v;
}

}  // namespace imaging
