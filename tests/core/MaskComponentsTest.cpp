#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "FloodFill.h"
#include "imaging/MaskComponents.h"

using testsupport::floodLabels;

// Random masks from sparse to dense (many components, equal sizes, runs longer than eight voxels, rows of
// odd lengths): the same components, sizes and numbering as a raster-order flood fill, each voxel in one run.
TEST(MaskComponents, MatchesARasterOrderFloodFill) {
  std::mt19937 rng(11);
  imaging::MaskComponents c;  // reused across masks, as callers do
  for (int trial = 0; trial < 40; ++trial) {
    const std::array<int, 3> d{1 + static_cast<int>(rng() % 40), 1 + static_cast<int>(rng() % 25),
                               1 + static_cast<int>(rng() % 10)};
    std::vector<std::uint8_t> m(static_cast<std::size_t>(d[0]) * d[1] * d[2]);
    const double density = 0.1 + 0.8 * (trial % 5) / 4.0;
    for (auto& x : m) x = std::uniform_real_distribution<double>(0, 1)(rng) < density ? 1 : 0;
    std::vector<std::size_t> sizes;
    const auto lab = floodLabels(m, d, sizes);
    imaging::labelMaskComponents(m.data(), d, c);
    ASSERT_EQ(c.voxels, sizes) << "trial " << trial;
    std::vector<int> got(m.size(), 0);
    std::size_t next = 0;  // raster index just past the previous run
    for (const auto& r : c.runs) {
      const std::size_t begin = static_cast<std::size_t>(r.begin + d[0] * (r.j + d[1] * r.k));
      ASSERT_GE(begin, next) << "runs in raster order, trial " << trial;
      next = begin + static_cast<std::size_t>(r.end - r.begin + 1);
      for (int i = r.begin; i <= r.end; ++i) {
        ASSERT_EQ(got[static_cast<std::size_t>(i + d[0] * (r.j + d[1] * r.k))], 0) << "voxel in two runs";
        got[static_cast<std::size_t>(i + d[0] * (r.j + d[1] * r.k))] = r.component + 1;
      }
    }
    ASSERT_EQ(got, lab) << "trial " << trial;
  }
}

// A U-shaped object whose arms meet only in a later slice is one component, numbered where it starts.
TEST(MaskComponents, JoinsArmsThatMeetOnlyInALaterSlice) {
  const std::array<int, 3> d{9, 3, 2};
  std::vector<std::uint8_t> m(9 * 3 * 2, 0);
  auto set = [&](int i, int j, int k) { m[static_cast<std::size_t>(i + 9 * (j + 3 * k))] = 1; };
  set(1, 1, 0);  // left arm
  set(7, 1, 0);  // right arm
  set(4, 0, 0);  // a separate speck, first in raster order
  for (int i = 1; i <= 7; ++i) set(i, 1, 1);  // the bridge, one slice up
  imaging::MaskComponents c;
  imaging::labelMaskComponents(m.data(), d, c);
  ASSERT_EQ(c.voxels.size(), 2u);
  EXPECT_EQ(c.voxels[0], 1u);  // the speck at (4, 0, 0)
  EXPECT_EQ(c.voxels[1], 9u);  // both arms and the bridge
}
