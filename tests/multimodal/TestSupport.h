#pragma once
// Helpers for multimodal tests: an analytic chest (body, two lungs, one nodule) sampled on any grid,
// and a small randomly initialised weights file.
#include <cmath>
#include <string>

#include "imaging/CtVolume.h"

namespace mmtest {

/// HU of the analytic chest at an LPS point (mm): air outside, soft-tissue body ellipse, two lungs,
/// an 10-mm solid nodule in the right upper lung.
inline double chestHu(double x, double y, double z) {
  const double body = (x / 150) * (x / 150) + (y / 105) * (y / 105);
  if (body > 1) return -1000;
  for (double cx : {-75.0, 75.0}) {
    const double dx = (x - cx) / 55, dy = y / 75, dz = (z + 150) / 115;
    if (dx * dx + dy * dy + dz * dz < 1) {
      const double nx = x + 70, ny = y + 10, nz = z + 110;
      if (nx * nx + ny * ny + nz * nz < 25) return 30;
      return -850;
    }
  }
  return 40;
}

/// Samples the chest on a grid (each voxel: mean of 2x2x2 sub-samples, like a CT voxel integrates).
inline imaging::CtVolume makeChest(int nxy, double pixelMm, int nz, double sliceMm) {
  imaging::VolumeGeometry g;
  g.size = {nxy, nxy, nz};
  g.spacingMm = {pixelMm, pixelMm, sliceMm};
  g.originLps = {-0.5 * (nxy - 1) * pixelMm, -0.5 * (nxy - 1) * pixelMm, -300 + 0.5 * sliceMm};
  imaging::CtVolume v(g);
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < nxy; ++j)
      for (int i = 0; i < nxy; ++i) {
        const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
        double s = 0;
        for (int a = 0; a < 8; ++a)
          s += chestHu(p[0] + ((a & 1) ? 0.25 : -0.25) * pixelMm, p[1] + ((a & 2) ? 0.25 : -0.25) * pixelMm,
                       p[2] + ((a & 4) ? 0.25 : -0.25) * sliceMm);
        v.at(i, j, k) = static_cast<int16_t>(std::lround(s / 8));
      }
  return v;
}

}  // namespace mmtest
