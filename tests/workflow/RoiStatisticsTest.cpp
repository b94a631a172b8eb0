#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "workflow/RoiStatistics.h"

namespace {
imaging::CtVolume makeVolume(std::array<int, 3> size, std::array<double, 3> spacing) {
  imaging::VolumeGeometry g;
  g.size = size;
  g.spacingMm = spacing;
  g.originLps = {-10, -20, -30};
  return imaging::CtVolume(g, 0);
}
}  // namespace

TEST(RoiStatistics, RectangleOnAxialSliceCountsVoxelCentresInside) {
  auto ct = makeVolume({10, 10, 4}, {0.5, 0.5, 2.0});
  // values on slice 2: hu = i + 10 j; other slices stay 0
  for (int j = 0; j < 10; ++j)
    for (int i = 0; i < 10; ++i) ct.at(i, j, 2) = static_cast<int16_t>(i + 10 * j);
  workflow::RectangleRoi roi;
  roi.normalAxis = 2;
  roi.slice = 2;
  roi.cornerAIjk = {5.9, 6.0, 0};  // i in {4,5}, j in {5,6}; corners in any order
  roi.cornerBIjk = {3.5, 4.2, 0};
  const auto s = workflow::computeRoiStatistics(ct, roi);
  EXPECT_EQ(s.voxelCount, 4u);
  EXPECT_DOUBLE_EQ(s.meanHu, (54 + 55 + 64 + 65) / 4.0);
  EXPECT_EQ(s.minHu, 54);
  EXPECT_EQ(s.maxHu, 65);
  EXPECT_DOUBLE_EQ(s.areaMm2, 4 * 0.25);
  EXPECT_NEAR(s.sdHu, std::sqrt((2 * 5.5 * 5.5 + 2 * 4.5 * 4.5) / 4.0), 1e-9);
}

TEST(RoiStatistics, CircleIsRoundInMillimetresOnAnisotropicCoronalPlane) {
  auto ct = makeVolume({41, 5, 21}, {0.5, 1.0, 1.0});
  for (int k = 0; k < 21; ++k)
    for (int i = 0; i < 41; ++i) ct.at(i, 2, k) = 100;
  workflow::CircleRoi roi;
  roi.normalAxis = 1;
  roi.slice = 2;
  roi.centreIjk = {20, 99, 10};  // the normal component is ignored
  roi.radiusMm = 5;
  const auto s = workflow::computeRoiStatistics(ct, roi);
  // Exact count of (du, dv) on a 0.5 x 1.0 mm grid with du^2 + dv^2 <= 25.
  std::size_t expected = 0;
  for (int v = -5; v <= 5; ++v)
    for (int u = -10; u <= 10; ++u)
      if ((u * 0.5) * (u * 0.5) + v * v <= 25.0) ++expected;
  EXPECT_EQ(s.voxelCount, expected);
  EXPECT_DOUBLE_EQ(s.meanHu, 100);
  EXPECT_DOUBLE_EQ(s.sdHu, 0);
  EXPECT_NEAR(s.areaMm2, M_PI * 25, 0.1 * M_PI * 25);
}

TEST(RoiStatistics, RegionOutsideTheVolumeIsEmptyNotAnError) {
  auto ct = makeVolume({8, 8, 8}, {1, 1, 1});
  workflow::CircleRoi roi;
  roi.normalAxis = 0;
  roi.slice = 3;
  roi.centreIjk = {3, -50, -50};
  roi.radiusMm = 4;
  EXPECT_EQ(workflow::computeRoiStatistics(ct, roi).voxelCount, 0u);
  roi.slice = 8;  // past the last slice
  roi.centreIjk = {0, 4, 4};
  EXPECT_EQ(workflow::computeRoiStatistics(ct, roi).voxelCount, 0u);
}

TEST(RoiStatistics, CircleClippedAtTheVolumeEdgeUsesOnlyVoxelsInside) {
  auto ct = makeVolume({8, 8, 3}, {1, 1, 1});
  workflow::CircleRoi roi;
  roi.normalAxis = 2;
  roi.slice = 1;
  roi.centreIjk = {0, 0, 1};
  roi.radiusMm = 1.0;  // (0,0), (1,0), (0,1) inside; (-1,0), (0,-1) outside the volume
  EXPECT_EQ(workflow::computeRoiStatistics(ct, roi).voxelCount, 3u);
}

TEST(RoiStatistics, RejectsInvalidNormalAxis) {
  auto ct = makeVolume({4, 4, 4}, {1, 1, 1});
  workflow::CircleRoi roi;
  roi.normalAxis = 3;
  EXPECT_THROW(workflow::computeRoiStatistics(ct, roi), std::invalid_argument);
}

TEST(RulerDistance, UsesSpacingAndDirectionCosines) {
  imaging::VolumeGeometry g;
  g.size = {10, 10, 10};
  g.spacingMm = {0.5, 0.5, 2.0};
  EXPECT_DOUBLE_EQ(workflow::distanceMm(g, {0, 0, 0}, {6, 0, 0}), 3.0);
  EXPECT_DOUBLE_EQ(workflow::distanceMm(g, {0, 0, 0}, {6, 8, 0}), 5.0);
  EXPECT_DOUBLE_EQ(workflow::distanceMm(g, {1, 1, 1}, {1, 1, 3}), 4.0);
  g.directionLps = {0, 1, 0, 1, 0, 0, 0, 0, -1};  // rows/columns swapped, feet-first: lengths unchanged
  EXPECT_DOUBLE_EQ(workflow::distanceMm(g, {0, 0, 0}, {6, 8, 0}), 5.0);
}
