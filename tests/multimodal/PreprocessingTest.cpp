#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "FloodFill.h"
#include "TestSupport.h"
#include "multimodal/ModelError.h"
#include "multimodal/Preprocessing.h"
#include "multimodal/Runtime.h"
#include "multimodal/detail/EnclosedAir.h"

using namespace multimodal;

namespace {
double meanAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a[i] - b[i]);
  return s / static_cast<double>(a.size());
}

// The same chest stored with the row axis reversed (j runs anterior->posterior flipped).
imaging::CtVolume rowsFlipped(const imaging::CtVolume& ct) {
  auto g = ct.geometry();
  g.directionLps = {1, 0, 0, 0, -1, 0, 0, 0, 1};
  g.originLps[1] = -g.originLps[1];
  imaging::CtVolume flipped(g);
  for (int k = 0; k < g.size[2]; ++k)
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) flipped.at(i, j, k) = ct.at(i, g.size[1] - 1 - j, k);
  return flipped;
}
}  // namespace

TEST(Preprocessing, FindsBothLungsAndCentresTheGridOnThem) {
  const auto ct = mmtest::makeChest(160, 2.2, 120, 2.5);
  const auto p = preprocessVolume(ct);
  ASSERT_TRUE(p.inScope) << p.reason;
  EXPECT_EQ(p.gridSize, 128);
  EXPECT_EQ(p.values.size(), 128u * 128u * 128u);
  // Two ellipsoids of 55 x 75 x 115 mm radii: 2 * 4/3 pi abc = 3.97 l.
  EXPECT_NEAR(p.lungVolumeMl, 3974, 400);
  EXPECT_NEAR(p.lungCentroidLps[0], 0, 4);
  EXPECT_NEAR(p.lungCentroidLps[1], 0, 4);
  EXPECT_NEAR(p.lungCentroidLps[2], -150, 4);
  EXPECT_NEAR(p.lungMinLps[0], -130, 6);
  EXPECT_NEAR(p.lungMaxLps[0], 130, 6);
  for (float v : p.values) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
  // The nodule centre (-70, -10, -110) reads as soft tissue on the model grid.
  const int i = static_cast<int>(std::lround((-70 - p.originLps[0]) / p.spacingMm));
  const int j = static_cast<int>(std::lround((-10 - p.originLps[1]) / p.spacingMm));
  const int k = static_cast<int>(std::lround((-110 - p.originLps[2]) / p.spacingMm));
  const float nodule = p.values[static_cast<std::size_t>(i + 128 * (j + 128 * k))];
  const float lungWindowed = static_cast<float>(2 * (-850 + 1350) / 1500.0 - 1);
  EXPECT_GT(nodule, lungWindowed + 0.5f);
}

TEST(Preprocessing, GivesNearlyTheSameTensorForAFineAndACoarseScanOfOneChest) {
  const auto coarse = preprocessVolume(mmtest::makeChest(160, 2.2, 120, 2.5));
  const auto fine = preprocessVolume(mmtest::makeChest(320, 1.1, 240, 1.25));
  ASSERT_TRUE(coarse.inScope && fine.inScope);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(coarse.originLps[static_cast<std::size_t>(a)], fine.originLps[static_cast<std::size_t>(a)], 2.0);
  const double d = meanAbsDiff(coarse.values, fine.values);
  EXPECT_LT(d, 0.03) << "mean |difference| on [-1, 1] scale";
}

TEST(Preprocessing, ReportsThickSlicesShortScansAndMissingLungsAsOutOfScope) {
  const auto thick = preprocessVolume(mmtest::makeChest(64, 5.5, 60, 5.0));
  EXPECT_FALSE(thick.inScope);
  EXPECT_NE(thick.reason.find("5.0 mm"), std::string::npos) << thick.reason;
  EXPECT_TRUE(thick.values.empty());

  auto g = mmtest::makeChest(64, 5.5, 40, 2.5).geometry();  // 100 mm of z
  const auto shortScan = preprocessVolume(imaging::CtVolume(g, 0));
  EXPECT_FALSE(shortScan.inScope);
  EXPECT_NE(shortScan.reason.find("100 mm"), std::string::npos) << shortScan.reason;

  // A water cylinder (a phantom QA scan, not a chest): no air inside the body.
  imaging::VolumeGeometry w;
  w.size = {96, 96, 80};
  w.spacingMm = {3.5, 3.5, 2.5};
  w.originLps = {-166, -166, -200};
  imaging::CtVolume water(w);
  for (int k = 0; k < 80; ++k)
    for (int j = 0; j < 96; ++j)
      for (int i = 0; i < 96; ++i) {
        const double x = -166 + 3.5 * i, y = -166 + 3.5 * j;
        if (x * x + y * y < 140 * 140) water.at(i, j, k) = 0;
      }
  const auto noLungs = preprocessVolume(water);
  EXPECT_FALSE(noLungs.inScope);
  EXPECT_NE(noLungs.reason.find("no lungs"), std::string::npos) << noLungs.reason;

  const auto empty = preprocessVolume(imaging::CtVolume());
  EXPECT_FALSE(empty.inScope);
}

TEST(Preprocessing, HandlesFlippedAxesLikeTheSameAnatomy) {
  const auto ct = mmtest::makeChest(160, 2.2, 120, 2.5);
  const auto a = preprocessVolume(ct), b = preprocessVolume(rowsFlipped(ct));
  ASSERT_TRUE(a.inScope && b.inScope);
  EXPECT_LT(meanAbsDiff(a.values, b.values), 1e-4);
}

namespace {
// Direct evaluation of the tent filter resampleToGrid documents (identity direction): per axis, weights
// 1 - |n - t| / h (h = max(input, output spacing) / input spacing) around the fractional input index t,
// normalised over all taps, taps outside the volume reading air.
double tentReference(const imaging::CtVolume& v, const std::array<double, 3>& x, const std::array<double, 3>& outSp) {
  const auto& g = v.geometry();
  std::array<std::vector<std::pair<int, double>>, 3> taps;
  for (std::size_t a = 0; a < 3; ++a) {
    const double t = (x[a] - g.originLps[a]) / g.spacingMm[a], h = std::max(g.spacingMm[a], outSp[a]) / g.spacingMm[a];
    double total = 0;
    for (int n = static_cast<int>(std::floor(t - h)); n <= static_cast<int>(std::ceil(t + h)); ++n) {
      const double w = 1.0 - std::abs(n - t) / h;
      if (w <= 0) continue;
      taps[a].push_back({n, w});
      total += w;
    }
    for (auto& tp : taps[a]) tp.second /= total;
  }
  double s = 0;
  for (const auto& [k, wk] : taps[2])
    for (const auto& [j, wj] : taps[1])
      for (const auto& [i, wi] : taps[0])
        s += wi * wj * wk * (v.contains(i, j, k) ? v.at(i, j, k) : imaging::CtVolume::kAirHu);
  return s;
}
}  // namespace

TEST(Preprocessing, ResamplesWithTheNormalisedTentFilterAndAirOutsideWhateverThePassOrderAndThreads) {
  imaging::VolumeGeometry g;
  g.size = {37, 29, 23};
  g.spacingMm = {0.7, 0.9, 1.3};
  g.originLps = {-12.0, -10.0, -14.0};
  imaging::CtVolume ct(g);
  for (int k = 0; k < g.size[2]; ++k)
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) ct.at(i, j, k) = static_cast<int16_t>((i * 37 + j * 101 + k * 53) % 1700 - 1000);
  // In-plane passes first (the z reduction is the smallest), then a grid whose z pass comes first; both
  // reach outside the volume and have line counts that are not multiples of 8.
  const std::array<std::array<int, 3>, 2> sizes{{{11, 9, 13}, {30, 25, 5}}};
  const std::array<std::array<double, 3>, 2> spacings{{{2.5, 2.5, 2.5}, {1.0, 1.1, 3.9}}};
  const std::array<std::array<double, 3>, 2> origins{{{-16.0, -13.0, -18.0}, {-13.0, -11.0, -16.0}}};
  for (std::size_t c = 0; c < 2; ++c) {
    const auto one = resampleToGrid(ct, sizes[c], spacings[c], origins[c], 1);
    EXPECT_EQ(one, resampleToGrid(ct, sizes[c], spacings[c], origins[c], 3));
    double maxErr = 0;
    for (int k = 0; k < sizes[c][2]; ++k)
      for (int j = 0; j < sizes[c][1]; ++j)
        for (int i = 0; i < sizes[c][0]; ++i) {
          const std::array<double, 3> x{origins[c][0] + i * spacings[c][0], origins[c][1] + j * spacings[c][1],
                                        origins[c][2] + k * spacings[c][2]};
          const float got = one[static_cast<std::size_t>(i + sizes[c][0] * (j + sizes[c][1] * k))];
          maxErr = std::max(maxErr, std::abs(got - tentReference(ct, x, spacings[c])));
        }
    EXPECT_LT(maxErr, 0.01) << "grid " << c;
  }
}

// `screen --resample-on-gpu` resamples on the GPU: a device that cannot be used is a clear error, never a
// silent fallback.
TEST(Preprocessing, AnUnusableDeviceIsAModelError) {
  const auto ct = mmtest::makeChest(160, 2.2, 120, 2.5);
  PreprocessOptions o;
  o.device = "no-such-device";
  EXPECT_THROW(preprocessVolume(ct, o), ModelError);
  if (!runtimeInfo().cudaAvailable) {
    o.device = "cuda";
    EXPECT_THROW(preprocessVolume(ct, o), ModelError);
  }
}

// On CUDA the resample equals the CPU's up to float rounding, also with a flipped axis (the same lung mask,
// origin and crop follow), and again on a second call (the per-thread page-locked buffers are reused).
TEST(PreprocessingGpu, CudaResampleMatchesTheCpu) {
  ASSERT_TRUE(runtimeInfo().cudaAvailable);
  const auto ct = mmtest::makeChest(320, 1.1, 240, 1.25);
  for (int flip = 0; flip < 3; ++flip) {
    SCOPED_TRACE(flip == 1 ? "row axis flipped" : "identity direction");
    const imaging::CtVolume v = flip == 1 ? rowsFlipped(ct) : ct;
    PreprocessOptions gpu;
    gpu.device = "cuda";
    const auto a = preprocessVolume(v), b = preprocessVolume(v, gpu);
    ASSERT_TRUE(a.inScope && b.inScope) << b.reason;
    EXPECT_EQ(a.originLps, b.originLps);
    EXPECT_NEAR(a.lungVolumeMl, b.lungVolumeMl, 1.0);
    ASSERT_EQ(a.values.size(), b.values.size());
    float worst = 0;
    for (std::size_t i = 0; i < a.values.size(); ++i) worst = std::max(worst, std::abs(a.values[i] - b.values[i]));
    EXPECT_LT(worst, 1e-4f);
  }
}

// The lung mask's labelling against a plain flood fill (6-neighbourhood from the lateral faces, then one
// label per remaining component in raster order) on random lattices with many small components, ties in
// size, air on the top and bottom slices and on the lateral faces.
TEST(Preprocessing, EnclosedAirMatchesAFloodFillOnRandomLattices) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const std::array<int, 3> d{3 + static_cast<int>(rng() % 30), 3 + static_cast<int>(rng() % 30),
                               1 + static_cast<int>(rng() % 12)};
    const std::size_t n = static_cast<std::size_t>(d[0]) * d[1] * d[2];
    std::vector<float> v(n);
    const double airShare = 0.3 + 0.4 * (trial % 3) / 2.0;
    for (auto& x : v) x = std::uniform_real_distribution<double>(0, 1)(rng) < airShare ? -900.f : 40.f;
    // Reference: every air component by a flood fill; those with a voxel on a lateral face dropped, the
    // others renumbered in order.
    std::vector<std::uint8_t> isAir(n);
    for (std::size_t i = 0; i < n; ++i) isAir[i] = static_cast<double>(v[i]) < -400.0;
    std::vector<std::size_t> all;
    std::vector<int> lab = testsupport::floodLabels(isAir, d, all);
    auto at = [&](int i, int j, int k) { return static_cast<std::size_t>(i + d[0] * (j + d[1] * k)); };
    std::vector<bool> outside(all.size() + 1, false);
    for (int k = 0; k < d[2]; ++k)
      for (int j = 0; j < d[1]; ++j)
        for (int i = 0; i < d[0]; ++i)
          if (i == 0 || j == 0 || i + 1 == d[0] || j + 1 == d[1]) outside[static_cast<std::size_t>(lab[at(i, j, k)])] = true;
    std::vector<int> renumber(all.size() + 1, 0);
    std::vector<std::size_t> sizes;
    for (std::size_t c = 1; c <= all.size(); ++c)
      if (!outside[c]) {
        sizes.push_back(all[c - 1]);
        renumber[c] = static_cast<int>(sizes.size());
      }
    for (auto& l : lab) l = renumber[static_cast<std::size_t>(l)];

    const auto air = detail::enclosedAir(v.data(), d, -400.0);
    ASSERT_EQ(air.voxels, sizes) << "trial " << trial;
    std::vector<int> got(n, 0);
    std::size_t last = 0;
    bool first = true;
    for (const auto& r : air.runs) {
      const std::size_t begin = at(r.begin, r.j, r.k);
      ASSERT_TRUE(first || begin > last) << "runs in raster order";
      first = false;
      last = at(r.end, r.j, r.k);
      for (int i = r.begin; i <= r.end; ++i) got[at(i, r.j, r.k)] = r.component + 1;
    }
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], lab[i]) << "trial " << trial << " voxel " << i;
  }
}
