#pragma once
/// MaskComponents: 6-connected components of a 3-D binary mask, as runs (run-length union-find labelling).
///
///   std::vector<std::uint8_t> mask(nx * ny * nz);      // 1 = in, i fastest
///   imaging::MaskComponents c;
///   imaging::labelMaskComponents(mask.data(), {nx, ny, nz}, c);
///   c.voxels[n];                                       // voxel count of component n
///   for (const auto& r : c.runs) ...;                  // i = r.begin..r.end of row (r.j, r.k) is in r.component
///
/// Used where a mask must be split into its connected parts many times per study: preprocessing's lung
/// mask, the nodule measurement's candidates. Components are numbered in the raster order (i, then j, then
/// k) of their first voxel, the order in which a raster scan with a flood fill meets them, so code written
/// around a flood fill keeps its tie-breaking. Cost is linear in the number of runs, not of voxels.
/// Limitations: 6-connectivity only; every dimension below 2^31.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace imaging {

struct MaskComponents {
  struct Run {
    int begin = 0, end = 0;  ///< voxels i = begin..end (inclusive) of row (j, k)
    int j = 0, k = 0;
    int component = 0;       ///< index into `voxels`
  };
  std::vector<Run> runs;             ///< every voxel of the mask in exactly one run, raster order
  std::vector<std::size_t> voxels;   ///< voxel count per component
};

/// Labels the voxels of `mask` (dims[0] * dims[1] * dims[2] bytes, i fastest) that are non-zero. `out` is
/// overwritten; its capacity is reused, so a caller that labels many masks keeps one MaskComponents.
void labelMaskComponents(const std::uint8_t* mask, const std::array<int, 3>& dims, MaskComponents& out);

}  // namespace imaging
