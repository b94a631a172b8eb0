#pragma once
// Test reference for connected-component labelling: a plain 6-neighbourhood flood fill started from each
// unlabelled voxel in raster order (i fastest, then j, then k). Header-only, for several test executables.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace testsupport {

/// Labels 1, 2, ... per component of the non-zero voxels of `m` (0 elsewhere), numbered in the raster order
/// of their first voxel; `sizes[c]` = voxels of label c + 1.
inline std::vector<int> floodLabels(const std::vector<std::uint8_t>& m, const std::array<int, 3>& d,
                                    std::vector<std::size_t>& sizes) {
  auto at = [&](int i, int j, int k) { return static_cast<std::size_t>(i + d[0] * (j + d[1] * k)); };
  std::vector<int> lab(m.size(), 0);
  sizes.clear();
  for (int k0 = 0; k0 < d[2]; ++k0)
    for (int j0 = 0; j0 < d[1]; ++j0)
      for (int i0 = 0; i0 < d[0]; ++i0) {
        if (!m[at(i0, j0, k0)] || lab[at(i0, j0, k0)]) continue;
        const int label = static_cast<int>(sizes.size()) + 1;
        std::size_t count = 0;
        std::vector<std::array<int, 3>> stack{{i0, j0, k0}};
        lab[at(i0, j0, k0)] = label;
        while (!stack.empty()) {
          const auto p = stack.back();
          stack.pop_back();
          ++count;
          const int nb[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
          for (const auto& o : nb) {
            const int i = p[0] + o[0], j = p[1] + o[1], k = p[2] + o[2];
            if (i < 0 || j < 0 || k < 0 || i >= d[0] || j >= d[1] || k >= d[2]) continue;
            if (!m[at(i, j, k)] || lab[at(i, j, k)]) continue;
            lab[at(i, j, k)] = label;
            stack.push_back({i, j, k});
          }
        }
        sizes.push_back(count);
      }
  return lab;
}

}  // namespace testsupport
