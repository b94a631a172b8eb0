#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "explain/Findings.h"

namespace {

imaging::CtVolume lungBlock(int n, double mm, int16_t hu = -850) {
  imaging::VolumeGeometry g;
  g.size = {n, n, n};
  g.spacingMm = {mm, mm, mm};
  g.originLps = {-0.5 * (n - 1) * mm, -0.5 * (n - 1) * mm, -0.5 * (n - 1) * mm};
  return imaging::CtVolume(g, hu);
}

void paintBall(imaging::CtVolume& v, const std::array<double, 3>& c, double r, int16_t hu) {
  const auto& g = v.geometry();
  for (int k = 0; k < g.size[2]; ++k)
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) {
        const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
        const double d = std::sqrt((p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]) + (p[2] - c[2]) * (p[2] - c[2]));
        if (d <= r) v.at(i, j, k) = hu;
      }
}

// A tube of radius r (mm) along x through the whole volume, its axis at LPS (y, z).
void paintTubeAlongX(imaging::CtVolume& v, double y, double z, double r, int16_t hu) {
  const auto& g = v.geometry();
  for (int k = 0; k < g.size[2]; ++k)
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) {
        const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
        if ((p[1] - y) * (p[1] - y) + (p[2] - z) * (p[2] - z) < r * r) v.at(i, j, k) = hu;
      }
}

explain::CamComponent boxAround(const std::array<double, 3>& c, double half) {
  explain::CamComponent comp;
  comp.peak = 1;
  comp.peakLps = c;
  for (int a = 0; a < 3; ++a) {
    comp.minLps[a] = c[a] - half;
    comp.maxLps[a] = c[a] + half;
  }
  return comp;
}

}  // namespace

TEST(Findings, CamOfOneHotCellPeaksAtThatCellsCentreOnTheCtGrid) {
  const int n = 4;
  std::vector<float> cells(n * n * n, 0.f);
  cells[1 + n * (2 + n * 1)] = 1.f;  // cell (1,2,1)
  const std::array<double, 3> origin{-30, -30, -30};
  auto ct = lungBlock(61, 1.0);  // voxel centres at -30..30 mm
  auto cam = explain::camToCtGrid(cells, n, 20.0, origin, ct.geometry(), 2);
  ASSERT_EQ(cam.size(), ct.geometry().voxelCount());
  const auto it = std::max_element(cam.begin(), cam.end());
  const std::size_t p = static_cast<std::size_t>(it - cam.begin());
  const auto lps = ct.geometry().lpsFromIjk({double(p % 61), double((p / 61) % 61), double(p / (61 * 61))});
  EXPECT_NEAR(lps[0], -10, 1e-6);
  EXPECT_NEAR(lps[1], 10, 1e-6);
  EXPECT_NEAR(lps[2], -10, 1e-6);
  EXPECT_NEAR(*it, 8.f / 27.f, 1e-6);  // cubic B-spline: (4/6)^3 at the centre of a lone cell
  EXPECT_GE(*std::min_element(cam.begin(), cam.end()), 0.f);
}

TEST(Findings, CamOnTheCtGridPeaksBetweenCellCentresTowardsTheStrongerNeighbour) {
  const int n = 6;
  std::vector<float> cells(n * n * n, 0.f);
  cells[2 + n * (2 + n * 2)] = 1.f;   // cell (2,2,2) at 0 mm
  cells[3 + n * (2 + n * 2)] = 0.8f;  // cell (3,2,2) at +10 mm along i
  const std::array<double, 3> origin{-20, -20, -20};
  auto ct = lungBlock(61, 1.0);  // voxel centres at -30..30 mm
  auto cam = explain::camToCtGrid(cells, n, 10.0, origin, ct.geometry(), 1);
  const std::size_t p = static_cast<std::size_t>(std::max_element(cam.begin(), cam.end()) - cam.begin());
  const auto lps = ct.geometry().lpsFromIjk({double(p % 61), double((p / 61) % 61), double(p / (61 * 61))});
  EXPECT_GT(lps[0], 0.5);  // not on the cell centre (a trilinear map would peak exactly at 0)
  EXPECT_LT(lps[0], 5.0);  // and still nearer the stronger cell
  EXPECT_NEAR(lps[1], 0, 1e-6);
  EXPECT_NEAR(lps[2], 0, 1e-6);
}

TEST(Findings, CamCentroidNearPeakIsTheCellCentreForOneCellAndBetweenTwoEqualCells) {
  const int n = 4;
  const std::array<double, 3> origin{-30, -30, -30};
  std::vector<float> cells(n * n * n, 0.f);
  cells[1 + n * (2 + n * 1)] = 1.f;  // cell (1,2,1)
  auto c = explain::camCentroidNearPeak(cells, n, 20.0, origin);
  EXPECT_NEAR(c[0], -10, 1e-9);
  EXPECT_NEAR(c[1], 10, 1e-9);
  EXPECT_NEAR(c[2], -10, 1e-9);
  cells[2 + n * (2 + n * 1)] = 1.f;  // and cell (2,2,1): centroid half way along i
  c = explain::camCentroidNearPeak(cells, n, 20.0, origin);
  EXPECT_NEAR(c[0], 0, 1e-9);
  EXPECT_NEAR(c[1], 10, 1e-9);
  cells[3 + n * (3 + n * 3)] = 0.5f;  // outside the 3x3x3 neighbourhood: ignored
  c = explain::camCentroidNearPeak(cells, n, 20.0, origin);
  EXPECT_NEAR(c[2], -10, 1e-9);
}

TEST(Findings, CamMappingFollowsFlippedAxesInLpsNotInIndices) {
  const int n = 4;
  std::vector<float> cells(n * n * n, 0.f);
  cells[3 + n * (0 + n * 0)] = 1.f;  // cell (3,0,0): most left, anterior, inferior
  auto ct = lungBlock(61, 1.0);
  auto g = ct.geometry();
  g.directionLps = {-1, 0, 0, 0, 1, 0, 0, 0, -1};  // i runs to the right, k to inferior
  g.originLps = {30, -30, 30};
  imaging::CtVolume flipped(g, -850);
  auto cam = explain::camToCtGrid(cells, n, 20.0, {-30, -30, -30}, g, 1);
  const auto it = std::max_element(cam.begin(), cam.end());
  const std::size_t p = static_cast<std::size_t>(it - cam.begin());
  const auto lps = g.lpsFromIjk({double(p % 61), double((p / 61) % 61), double(p / (61 * 61))});
  EXPECT_NEAR(lps[0], 30, 1e-6);
  EXPECT_NEAR(lps[1], -30, 1e-6);
  EXPECT_NEAR(lps[2], -30, 1e-6);
}

TEST(Findings, RejectsAnObliqueCtForTheOverlay) {
  auto ct = lungBlock(8, 1.0);
  auto g = ct.geometry();
  const double c = std::cos(0.3), s = std::sin(0.3);
  g.directionLps = {c, -s, 0, s, c, 0, 0, 0, 1};
  std::vector<float> cells(8, 1.f);
  EXPECT_THROW(explain::camToCtGrid(cells, 2, 10.0, {0, 0, 0}, g), std::runtime_error);
}

TEST(Findings, CamComponentsAreSeparatedAndSortedByPeak) {
  const int n = 8;
  std::vector<float> cells(n * n * n, 0.f);
  cells[1 + n * (1 + n * 1)] = 0.7f;
  cells[2 + n * (1 + n * 1)] = 0.6f;
  cells[6 + n * (6 + n * 6)] = 1.0f;
  auto comps = explain::camComponents(cells, n, 20.0, {0, 0, 0}, 0.5);
  ASSERT_EQ(comps.size(), 2u);
  EXPECT_DOUBLE_EQ(comps[0].peak, 1.0);
  EXPECT_EQ(comps[0].peakLps[0], 120.0);
  EXPECT_EQ(comps[1].cellsCount, 2);
  EXPECT_NEAR(comps[1].peak, 0.7, 1e-6);
  EXPECT_TRUE(explain::camComponents(std::vector<float>(n * n * n, 0.f), n, 20.0, {0, 0, 0}, 0.5).empty());
}

TEST(Findings, MeasuresASolidBallsDiameterCentreAndType) {
  auto ct = lungBlock(81, 0.7);
  const std::array<double, 3> c{3.1, -2.2, 4.0};
  paintBall(ct, c, 6.0, 40);
  auto f = explain::measureNoduleNear(ct, boxAround({0, 0, 0}, 15), {});
  ASSERT_TRUE(f.measured);
  EXPECT_EQ(f.type, "solid");
  EXPECT_NEAR(f.diameterMm, 12.0, 1.0);
  EXPECT_NEAR(f.meanHu, 40, 1);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(f.centerLps[a], c[a], 0.5);
  const auto k0 = ct.geometry().ijkFromLps({0, 0, c[2] - 6}), k1 = ct.geometry().ijkFromLps({0, 0, c[2] + 6});
  EXPECT_NEAR(f.sliceFirst, k0[2], 1.5);
  EXPECT_NEAR(f.sliceLast, k1[2], 1.5);
}

TEST(Findings, TellsGroundGlassAndPartSolidFromTheHuDistribution) {
  auto ggo = lungBlock(81, 0.7);
  paintBall(ggo, {0, 0, 0}, 7.0, -600);
  auto f = explain::measureNoduleNear(ggo, boxAround({0, 0, 0}, 15), {});
  ASSERT_TRUE(f.measured);
  EXPECT_EQ(f.type, "non_solid");
  EXPECT_NEAR(f.diameterMm, 14.0, 1.5);

  auto ps = lungBlock(81, 0.7);
  paintBall(ps, {0, 0, 0}, 7.0, -550);
  paintBall(ps, {0, 0, 0}, 3.5, 30);
  auto g = explain::measureNoduleNear(ps, boxAround({0, 0, 0}, 15), {});
  ASSERT_TRUE(g.measured);
  EXPECT_EQ(g.type, "part_solid");
  EXPECT_NEAR(g.solidDiameterMm, 7.0, 1.5);
}

TEST(Findings, PrefersTheCompactNoduleOverAVesselCrossingTheRegion) {
  auto ct = lungBlock(81, 0.7);
  // A vessel (tube of radius 2 mm) along x through the whole block, and a 8-mm nodule beside it.
  paintTubeAlongX(ct, 10, 0, 2.0, 40);
  paintBall(ct, {0, -10, 0}, 4.0, 40);
  auto f = explain::measureNoduleNear(ct, boxAround({0, 0, 0}, 15), {});
  ASSERT_TRUE(f.measured);
  EXPECT_NEAR(f.centerLps[1], -10, 1.0);
  EXPECT_NEAR(f.diameterMm, 8.0, 1.0);
}

TEST(Findings, DetachesANoduleFromAVesselThroughItByErosionAndGrowsItBack) {
  auto ct = lungBlock(81, 0.7);
  // A 10-mm nodule with a thin vessel (radius 1 mm) along x through its centre and the whole block: the
  // plain component touches the region's border, the 2 mm erosion removes the vessel, and growing the
  // eroded ball back gives the nodule (with short vessel stubs).
  paintTubeAlongX(ct, 1, -2, 1.0, 40);
  const std::array<double, 3> c{2.0, 1.0, -2.0};
  paintBall(ct, c, 5.0, 40);
  auto f = explain::measureNoduleNear(ct, boxAround({0, 0, 0}, 15), {});
  ASSERT_TRUE(f.measured);
  EXPECT_EQ(f.type, "solid");
  EXPECT_NEAR(f.diameterMm, 10.0, 2.0);
  EXPECT_NEAR(f.volumeMl, 4.0 / 3.0 * M_PI * 125.0 / 1000.0, 0.15);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(f.centerLps[a], c[a], 0.5);
}

TEST(Findings, OfTwoEqualNodulesTheOneUnderTheCamWins) {
  auto ct = lungBlock(81, 0.7);
  const std::array<double, 3> a{-8, 0, 0}, b{8, 0, 0};
  paintBall(ct, a, 4.0, 40);
  paintBall(ct, b, 4.0, 40);
  const auto& g = ct.geometry();
  for (const auto& hot : {a, b}) {
    std::vector<float> cam(g.voxelCount());
    for (int k = 0; k < 81; ++k)
      for (int j = 0; j < 81; ++j)
        for (int i = 0; i < 81; ++i) {
          const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
          const double d2 = (p[0] - hot[0]) * (p[0] - hot[0]) + p[1] * p[1] + p[2] * p[2];
          cam[ct.index(i, j, k)] = static_cast<float>(std::exp(-d2 / 50.0));
        }
    auto f = explain::measureNoduleNear(ct, boxAround({0, 0, 0}, 15), cam);
    ASSERT_TRUE(f.measured);
    EXPECT_NEAR(f.centerLps[0], hot[0], 0.5);
    EXPECT_NEAR(f.diameterMm, 8.0, 1.0);
    EXPECT_GT(f.camInsideNodule, 0.3);
  }
}

TEST(Findings, ReportsNothingMeasuredInEmptyLung) {
  auto ct = lungBlock(41, 1.0);
  auto f = explain::measureNoduleNear(ct, boxAround({0, 0, 0}, 10), {});
  EXPECT_FALSE(f.measured);
  EXPECT_LE(f.sliceFirst, f.sliceLast);
}

TEST(Findings, LobeRuleSeparatesRightAndLeftUpperAndLowerLobes) {
  // Identity alignment (the scan's lung centroid equals the reference chest's).
  const std::array<double, 3> cen{0, 0, -150};
  EXPECT_EQ(explain::lobeFromPosition({-80, 0, -60}, cen).first, "RUL");
  EXPECT_EQ(explain::lobeFromPosition({80, 0, -60}, cen).first, "LUL");
  EXPECT_EQ(explain::lobeFromPosition({-80, 60, -220}, cen).first, "RLL");
  EXPECT_EQ(explain::lobeFromPosition({80, 60, -220}, cen).first, "LLL");
  // Shifting the scan (origin elsewhere) shifts the rule with it.
  EXPECT_EQ(explain::lobeFromPosition({-80 + 500, 0 + 40, -60 + 1000}, {500, 40, 850}).first, "RUL");
}

TEST(Findings, SpearmanIsOneForMonotoneAndMinusOneForReversed) {
  std::vector<float> a{1, 2, 3, 4, 5}, b{10, 20, 30, 40, 50}, c{5, 4, 3, 2, 1};
  EXPECT_NEAR(explain::spearman(a, b), 1.0, 1e-12);
  EXPECT_NEAR(explain::spearman(a, c), -1.0, 1e-12);
}
