// Tests of the synthetic screening cohort: determinism, anatomy and nodules in the volume against the truth,
// notes against the record (test-side parser), labels against the Brock formula, truth / FHIR JSON content.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "NoteParser.h"
#include "clinical/Brock.h"
#include "clinical/LungRads.h"
#include "phantom/ChestAnatomy.h"
#include "phantom/CohortGenerator.h"
#include "phantom/CohortStatistics.h"

using phantom::Case;
using phantom::CohortGenerator;
using phantom::Nodule;
using phantom::PhantomOptions;
using phantom::SizePreset;

namespace {

// ---- a tiny JSON syntax checker (the library has no JSON reader, and tests must not trust its writer) ----
class JsonChecker {
 public:
  explicit JsonChecker(const std::string& s) : s_(s) {}
  bool valid() {
    pos_ = 0;
    if (!value()) return false;
    ws();
    return pos_ == s_.size();
  }

 private:
  void ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool lit(const char* w) {
    const std::string t(w);
    if (s_.compare(pos_, t.size(), t) != 0) return false;
    pos_ += t.size();
    return true;
  }
  bool str() {
    if (s_[pos_] != '"') return false;
    for (++pos_; pos_ < s_.size(); ++pos_) {
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c < 0x20) return false;
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size() || std::string("\"\\/bfnrtu").find(s_[pos_]) == std::string::npos) return false;
      } else if (c == '"') {
        ++pos_;
        return true;
      }
    }
    return false;
  }
  bool num() {
    const std::size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
                                s_[pos_] == 'e' || s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-'))
      ++pos_;
    return pos_ > start && std::isdigit(static_cast<unsigned char>(s_[pos_ - 1]));
  }
  bool value() {
    ws();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      ws();
      if (s_[pos_] == close) return ++pos_, true;
      while (true) {
        if (c == '{') {
          ws();
          if (!str()) return false;
          ws();
          if (s_[pos_++] != ':') return false;
        }
        if (!value()) return false;
        ws();
        if (s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (s_[pos_] == close) return ++pos_, true;
        return false;
      }
    }
    if (c == '"') return str();
    if (lit("true") || lit("false") || lit("null")) return true;
    return num();
  }
  const std::string& s_;
  std::size_t pos_ = 0;
};

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// Cases of a cohort with at least one nodule matching `pred` (records only).
std::vector<std::pair<int, int>> findNodules(const CohortGenerator& gen, int maxCases,
                                             bool (*pred)(const Nodule&), int wanted) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < maxCases && static_cast<int>(out.size()) < wanted; ++i) {
    const Case c = gen.generateRecord(i);
    for (std::size_t n = 0; n < c.nodules.size(); ++n)
      if (pred(c.nodules[n])) {
        out.push_back({i, static_cast<int>(n)});
        break;
      }
  }
  return out;
}

struct Blob {
  int voxels = 0;
  double volumeMm3 = 0;
  std::array<double, 3> centroidLps{};
  double equivalentDiameterMm() const { return std::cbrt(6 * volumeMm3 / 3.141592653589793); }
};

// 6-connected component of voxels above `thresholdHu` grown from the voxel nearest the nodule centre,
// limited to a box of half-size `reachMm` around it.
Blob measureBlob(const imaging::CtVolume& v, const std::array<double, 3>& centerLps, double reachMm,
                 int thresholdHu) {
  const auto& g = v.geometry();
  const auto ijk = g.ijkFromLps(centerLps);
  const std::array<int, 3> c{static_cast<int>(std::lround(ijk[0])), static_cast<int>(std::lround(ijk[1])),
                             static_cast<int>(std::lround(ijk[2]))};
  std::array<int, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    const int r = static_cast<int>(std::ceil(reachMm / g.spacingMm[a]));
    lo[a] = std::max(0, c[a] - r);
    hi[a] = std::min(g.size[a] - 1, c[a] + r);
  }
  Blob b;
  if (v.at(c[0], c[1], c[2]) <= thresholdHu) return b;
  std::set<std::size_t> seen;
  std::queue<std::array<int, 3>> q;
  q.push(c);
  seen.insert(v.index(c[0], c[1], c[2]));
  std::array<double, 3> sum{};
  while (!q.empty()) {
    const auto p = q.front();
    q.pop();
    ++b.voxels;
    for (int a = 0; a < 3; ++a) sum[a] += p[a];
    static const int d[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    for (const auto& dd : d) {
      const std::array<int, 3> n{p[0] + dd[0], p[1] + dd[1], p[2] + dd[2]};
      bool inside = true;
      for (int a = 0; a < 3; ++a) inside = inside && n[a] >= lo[a] && n[a] <= hi[a];
      if (!inside || v.at(n[0], n[1], n[2]) <= thresholdHu) continue;
      if (seen.insert(v.index(n[0], n[1], n[2])).second) q.push(n);
    }
  }
  b.volumeMm3 = b.voxels * g.spacingMm[0] * g.spacingMm[1] * g.spacingMm[2];
  b.centroidLps = g.lpsFromIjk({sum[0] / b.voxels, sum[1] / b.voxels, sum[2] / b.voxels});
  return b;
}

double meanHuInBall(const imaging::CtVolume& v, const std::array<double, 3>& centerLps, double radiusMm) {
  const auto& g = v.geometry();
  double sum = 0;
  int n = 0;
  for (int k = 0; k < g.size[2]; ++k) {
    const double z = g.originLps[2] + k * g.spacingMm[2];
    if (std::abs(z - centerLps[2]) > radiusMm) continue;
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) {
        const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
        const double dx = p[0] - centerLps[0], dy = p[1] - centerLps[1], dz = p[2] - centerLps[2];
        if (dx * dx + dy * dy + dz * dz > radiusMm * radiusMm) continue;
        sum += v.at(i, j, k);
        ++n;
      }
  }
  return n ? sum / n : std::nan("");
}

double medianHuInBall(const imaging::CtVolume& v, const std::array<double, 3>& centerLps, double radiusMm) {
  const auto& g = v.geometry();
  std::vector<int> values;
  for (int k = 0; k < g.size[2]; ++k)
    for (int j = 0; j < g.size[1]; ++j)
      for (int i = 0; i < g.size[0]; ++i) {
        const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
        const double dx = p[0] - centerLps[0], dy = p[1] - centerLps[1], dz = p[2] - centerLps[2];
        if (dx * dx + dy * dy + dz * dz <= radiusMm * radiusMm) values.push_back(v.at(i, j, k));
      }
  if (values.empty()) return std::nan("");
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// Largest HU in the 3x3x3 voxels around the voxel nearest to a point.
int maxHuNear(const imaging::CtVolume& v, const std::array<double, 3>& lps) {
  const auto ijk = v.geometry().ijkFromLps(lps);
  int best = -5000;
  for (int dk = -1; dk <= 1; ++dk)
    for (int dj = -1; dj <= 1; ++dj)
      for (int di = -1; di <= 1; ++di) {
        const int i = static_cast<int>(std::lround(ijk[0])) + di,
                  j = static_cast<int>(std::lround(ijk[1])) + dj,
                  k = static_cast<int>(std::lround(ijk[2])) + dk;
        if (v.contains(i, j, k)) best = std::max<int>(best, v.at(i, j, k));
      }
  return best;
}

double distanceMm(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
TEST(CohortGenerator, SameSeedGivesByteIdenticalVolumesNotesAndTruthWhateverTheThreadCount) {
  PhantomOptions one, two;
  one.threads = 1;
  two.threads = 2;
  one.language = two.language = phantom::LanguageMix::Mixed;
  const Case a = CohortGenerator(42, one).generate(3);
  const Case b = CohortGenerator(42, two).generate(3);
  EXPECT_EQ(a.volume.valuesHu(), b.volume.valuesHu());
  EXPECT_EQ(a.note, b.note);
  EXPECT_EQ(a.truthJson(), b.truthJson());
  EXPECT_EQ(a.fhirBundleJson(), b.fhirBundleJson());
  EXPECT_TRUE(a.volume.geometry().sameGridAs(b.volume.geometry()));
}

TEST(CohortGenerator, DifferentSeedsAndIndicesGiveDifferentCases) {
  const Case a = CohortGenerator(1).generate(0);
  const Case b = CohortGenerator(2).generate(0);
  const Case c = CohortGenerator(1).generate(1);
  EXPECT_NE(a.volume.valuesHu(), b.volume.valuesHu());
  EXPECT_NE(a.volume.valuesHu(), c.volume.valuesHu());
  EXPECT_NE(a.note, b.note);
  EXPECT_NE(a.studyInstanceUid, b.studyInstanceUid);
  EXPECT_NE(a.studyInstanceUid, c.studyInstanceUid);
  EXPECT_NE(a.patientId, c.patientId);
}

TEST(CohortGenerator, GenerateRecordMatchesGenerateWithoutTheVolume) {
  CohortGenerator gen(5);
  const Case full = gen.generate(2);
  const Case rec = gen.generateRecord(2);
  EXPECT_TRUE(rec.volume.empty());
  EXPECT_EQ(full.truthJson(), rec.truthJson());
  EXPECT_EQ(full.note, rec.note);
  EXPECT_EQ(gen.generateVolume(rec).valuesHu(), full.volume.valuesHu());
}

TEST(CohortGenerator, PresetGeometryIsAxialCentredAndCoversTheSameChest) {
  for (auto size : {SizePreset::Small, SizePreset::Full}) {
    const auto g = phantom::volumeGeometry(size);
    EXPECT_EQ(g.directionLps, (std::array<double, 9>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
    const auto first = g.lpsFromIjk({0, 0, 0});
    const auto last = g.lpsFromIjk({g.size[0] - 1.0, g.size[1] - 1.0, g.size[2] - 1.0});
    EXPECT_NEAR(first[0] + last[0], 0, 1e-9);  // centred in x and y
    EXPECT_NEAR(first[1] + last[1], 0, 1e-9);
    EXPECT_GT(last[2], first[2]);  // k towards superior
    EXPECT_NEAR(g.extentMm()[2], 300, 1e-9);
    EXPECT_NEAR(g.extentMm()[0], 352, 1e-9);
  }
  const auto small = phantom::volumeGeometry(SizePreset::Small);
  EXPECT_EQ(small.size[0], 160);
  EXPECT_GE(small.size[2], 110);
  EXPECT_LE(small.size[2], 130);
  const auto full = phantom::volumeGeometry(SizePreset::Full);
  EXPECT_EQ(full.size[0], 512);
  EXPECT_GE(full.spacingMm[0], 0.6);
  EXPECT_LE(full.spacingMm[0], 0.8);
}

TEST(CohortGenerator, VolumeShowsAirBodyLungsBoneAndHeartAtTheirHu) {
  const Case c = CohortGenerator(7).generate(0);
  const auto chest = phantom::ChestAnatomy::forCase(7, 0);
  const auto& p = chest.parameters();
  const auto& v = c.volume;
  // Outside the body: air.
  EXPECT_LT(meanHuInBall(v, {-170, -170, -150}, 5), -950);
  // Lung parenchyma (right lung, mid height): the median is robust to the vessels crossing the ball.
  EXPECT_NEAR(medianHuInBall(v, {-0.5 * p.bodyHalfWidthMm, 20, -130}, 10), -850, 40);
  // Heart: soft tissue.
  EXPECT_NEAR(meanHuInBall(v, p.heartCenterLps, 10), 40, 30);
  // Vertebral body (cancellous bone with a cortex) is well above soft tissue.
  double maxSpine = -2000;
  for (double z = -200; z < -100; z += 2.5) {
    const auto ijk = v.geometry().ijkFromLps({0, chest.spineCenterYMm(), z});
    maxSpine =
        std::max<double>(maxSpine, v.at(std::lround(ijk[0]), std::lround(ijk[1]), std::lround(ijk[2])));
  }
  EXPECT_GT(maxSpine, 200);
  // Subcutaneous fat just under the skin, laterally.
  EXPECT_NEAR(meanHuInBall(v, {-(p.bodyHalfWidthMm - 0.5 * p.fatMm), 0, -150}, 2.5), -100, 40);
}

TEST(CohortGenerator, NoiseInUniformTissueHasTheStdThatDoseAndKernelGive) {
  CohortGenerator gen(13);
  for (int i = 0; i < 4; ++i) {
    const Case c = gen.generate(i);
    const auto& g = c.volume.geometry();
    const auto centre = g.ijkFromLps(phantom::ChestAnatomy::forCase(13, i).parameters().heartCenterLps);
    const int r = static_cast<int>(8 / g.spacingMm[0]);
    double s = 0, s2 = 0;
    int n = 0;
    for (int j = -r; j <= r; ++j)
      for (int k = -r; k <= r; ++k) {
        const double v = c.volume.at(static_cast<int>(centre[0]) + k, static_cast<int>(centre[1]) + j,
                                     static_cast<int>(centre[2]));
        s += v;
        s2 += v * v;
        ++n;
      }
    const double sd = std::sqrt(s2 / n - (s / n) * (s / n));
    EXPECT_NEAR(sd, c.noiseStdHu, 0.3 * c.noiseStdHu + 1.5) << "case " << i << " kernel " << c.kernel;
    EXPECT_EQ(c.kernel, c.sharpKernel ? "B60f" : "B30f");
    EXPECT_GT(c.ctdiVolMgy, 0.5);
    EXPECT_LT(c.ctdiVolMgy, 3.5);
  }
}

TEST(CohortGenerator, EmphysemaAddsLowAttenuationClustersToTheLungs) {
  CohortGenerator gen(11);
  auto lowFraction = [](const Case& c) {
    const auto chest = phantom::ChestAnatomy::forCase(c.seed, c.index);
    const auto& g = c.volume.geometry();
    int lung = 0, low = 0;
    for (int k = 0; k < g.size[2]; k += 2)
      for (int j = 0; j < g.size[1]; j += 2)
        for (int i = 0; i < g.size[0]; i += 2) {
          if (!chest.insideLung(g.lpsFromIjk({double(i), double(j), double(k)}))) continue;
          ++lung;
          low += c.volume.at(i, j, k) < -930 ? 1 : 0;
        }
    return static_cast<double>(low) / lung;
  };
  int withEmph = -1, without = -1;
  for (int i = 0; i < 40 && (withEmph < 0 || without < 0); ++i) {
    const Case r = gen.generateRecord(i);
    if (r.emphysema && withEmph < 0) withEmph = i;
    if (!r.emphysema && without < 0) without = i;
  }
  ASSERT_GE(withEmph, 0);
  ASSERT_GE(without, 0);
  const double fe = lowFraction(gen.generate(withEmph)), fn = lowFraction(gen.generate(without));
  EXPECT_GT(fe, 0.01);
  EXPECT_GT(fe, 3 * fn);
}

TEST(CohortGenerator, SolidNoduleIsDenseAndItsMeasuredSizeAndPositionMatchTheTruth) {
  CohortGenerator gen(3);
  const auto found = findNodules(
      gen, 200,
      [](const Nodule& n) {
        return n.type == clinical::NoduleType::Solid && !n.calcified && !n.spiculated && n.diameterMm >= 6;
      },
      4);
  ASSERT_EQ(found.size(), 4u);
  for (const auto& [index, n] : found) {
    const Case c = gen.generate(index);
    const Nodule& nod = c.nodules[n];
    const auto& g = c.volume.geometry();
    EXPECT_GT(meanHuInBall(c.volume, nod.centerLps, 1.5), -100) << "case " << index;
    const Blob b = measureBlob(c.volume, nod.centerLps, 0.5 * nod.longAxisMm + 2 * g.spacingMm[0], -400);
    EXPECT_NEAR(b.equivalentDiameterMm(), nod.diameterMm, 1.5 * g.spacingMm[0]) << "case " << index;
    EXPECT_LT(distanceMm(b.centroidLps, nod.centerLps), g.spacingMm[0]) << "case " << index;
  }
}

TEST(CohortGenerator, SpiculatedNodulesHaveSpikesRadiatingBeyondTheirBody) {
  CohortGenerator gen(4);
  // Share of lung voxels denser than lung in a shell just outside the nodule body (vessels fade out there).
  auto shellDensity = [](const Case& c, const Nodule& nod) {
    const auto chest = phantom::ChestAnatomy::forCase(c.seed, c.index);
    const auto& g = c.volume.geometry();
    const double r0 = 0.5 * nod.longAxisMm + 1.5, r1 = r0 + 4;
    int shell = 0, dense = 0;
    const auto ijk = g.ijkFromLps(nod.centerLps);
    const int reach = static_cast<int>(std::ceil(r1 / g.spacingMm[0])) + 1;
    for (int k = std::max(0, int(ijk[2]) - reach); k <= std::min(g.size[2] - 1, int(ijk[2]) + reach); ++k)
      for (int j = std::max(0, int(ijk[1]) - reach); j <= std::min(g.size[1] - 1, int(ijk[1]) + reach); ++j)
        for (int i = std::max(0, int(ijk[0]) - reach); i <= std::min(g.size[0] - 1, int(ijk[0]) + reach);
             ++i) {
          const auto p = g.lpsFromIjk({double(i), double(j), double(k)});
          const double d = distanceMm(p, nod.centerLps);
          if (d < r0 || d > r1 || !chest.insideLung(p)) continue;
          ++shell;
          dense += c.volume.at(i, j, k) > -700 ? 1 : 0;
        }
    return shell ? static_cast<double>(dense) / shell : 0.0;
  };
  const auto spic = findNodules(
      gen, 300,
      +[](const Nodule& n) {
        return n.spiculated && n.type == clinical::NoduleType::Solid && n.diameterMm >= 15;
      },
      2);
  const auto smooth = findNodules(
      gen, 300,
      +[](const Nodule& n) {
        return !n.spiculated && n.type == clinical::NoduleType::Solid && n.diameterMm >= 15;
      },
      2);
  ASSERT_EQ(spic.size(), 2u);
  ASSERT_EQ(smooth.size(), 2u);
  double sSpic = 0, sSmooth = 0;
  for (const auto& [i, n] : spic) {
    const Case c = gen.generate(i);
    sSpic += shellDensity(c, c.nodules[n]);
  }
  for (const auto& [i, n] : smooth) {
    const Case c = gen.generate(i);
    sSmooth += shellDensity(c, c.nodules[n]);
  }
  std::cout << "shell density spiculated " << sSpic / 2 << ", smooth " << sSmooth / 2 << "\n";
  EXPECT_GT(sSpic, 0.03);
  EXPECT_GT(sSpic, 2 * sSmooth);
}

TEST(CohortGenerator, SubsolidAndCalcifiedNodulesHaveTheirTypicalHu) {
  CohortGenerator gen(8);
  const auto nonSolid = findNodules(
      gen, 300,
      [](const Nodule& n) { return n.type == clinical::NoduleType::NonSolid && n.diameterMm >= 10; }, 1);
  ASSERT_EQ(nonSolid.size(), 1u);
  {
    const Case c = gen.generate(nonSolid[0].first);
    const Nodule& n = c.nodules[nonSolid[0].second];
    EXPECT_NEAR(meanHuInBall(c.volume, n.centerLps, 0.25 * n.diameterMm), -600, 90);
  }
  const auto partSolid = findNodules(
      gen, 300,
      [](const Nodule& n) { return n.type == clinical::NoduleType::PartSolid && n.solidDiameterMm >= 6; }, 1);
  ASSERT_EQ(partSolid.size(), 1u);
  {
    const Case c = gen.generate(partSolid[0].first);
    const Nodule& n = c.nodules[partSolid[0].second];
    EXPECT_GT(meanHuInBall(c.volume, n.centerLps, 1.5), -250);  // solid core
    // Ground-glass halo: the mid-shell between core and surface.
    const auto& g = c.volume.geometry();
    const double rIn = 0.5 * n.solidDiameterMm + 2.5, rOut = 0.5 * n.shortAxisMm - 1.5;
    if (rOut > rIn) {
      double sum = 0;
      int cnt = 0;
      for (int k = 0; k < g.size[2]; ++k)
        for (int j = 0; j < g.size[1]; ++j)
          for (int i = 0; i < g.size[0]; ++i) {
            const double d = distanceMm(g.lpsFromIjk({double(i), double(j), double(k)}), n.centerLps);
            if (d < rIn || d > rOut) continue;
            sum += c.volume.at(i, j, k);
            ++cnt;
          }
      if (cnt > 0) EXPECT_NEAR(sum / cnt, -550, 150);
    }
  }
  const auto calcified = findNodules(
      gen, 400, [](const Nodule& n) { return n.calcified && n.diameterMm >= 6; }, 1);
  ASSERT_EQ(calcified.size(), 1u);
  {
    const Case c = gen.generate(calcified[0].first);
    const Nodule& n = c.nodules[calcified[0].second];
    EXPECT_GE(maxHuNear(c.volume, n.centerLps), 200);
    EXPECT_FALSE(n.malignant);
  }
}

TEST(CohortGenerator, NodulesLieFullyInsideTheLungOfTheirLobe) {
  PhantomOptions opt;
  opt.maxNodules = 4;
  CohortGenerator gen(21, opt);
  int checked = 0;
  for (int i = 0; i < 150; ++i) {
    const Case c = gen.generateRecord(i);
    const auto chest = phantom::ChestAnatomy::forCase(21, i);
    for (const auto& n : c.nodules) {
      ++checked;
      ASSERT_EQ(chest.lobeAt(n.centerLps), n.lobe) << "case " << i;
      const double r = 0.5 * n.longAxisMm + 1;
      for (int a = 0; a < 3; ++a)
        for (double s : {-1.0, 1.0}) {
          auto p = n.centerLps;
          p[a] += s * r;
          EXPECT_EQ(chest.lobeAt(p), n.lobe) << "case " << i << " axis " << a;
        }
      EXPECT_GE(n.diameterMm, 3.0);
      EXPECT_LE(n.diameterMm, 35.0);
      EXPECT_NEAR(n.diameterMm, 0.5 * (n.longAxisMm + n.shortAxisMm), 1e-9);
      EXPECT_GE(n.longAxisMm, n.shortAxisMm);
    }
  }
  EXPECT_GT(checked, 150);
}

TEST(ChestAnatomy, LobeOfAPointFollowsTheFissures) {
  const auto chest = phantom::ChestAnatomy::forCase(1, 0);
  const auto& p = chest.parameters();
  const double xr = -0.5 * p.bodyHalfWidthMm, xl = 0.5 * p.bodyHalfWidthMm;
  EXPECT_EQ(chest.lobeAt({xr, 10, p.apexZMm - 50}), phantom::Lobe::RUL);         // high
  EXPECT_EQ(chest.lobeAt({xr, 40, p.domeRightZMm - 5}), phantom::Lobe::RLL);     // low, posterior
  EXPECT_EQ(chest.lobeAt({xr, -45, p.horizontalZMm - 25}), phantom::Lobe::RML);  // anterior, mid
  EXPECT_EQ(chest.lobeAt({xl, 10, p.apexZMm - 50}), phantom::Lobe::LUL);
  EXPECT_EQ(chest.lobeAt({xl, 40, p.domeLeftZMm - 5}), phantom::Lobe::LLL);
  // Just above and below the oblique fissure.
  const double zf = chest.obliqueFissureZMm(xl, 0);
  EXPECT_EQ(chest.lobeAt({xl, 0, zf + 1}), phantom::Lobe::LUL);
  EXPECT_EQ(chest.lobeAt({xl, 0, zf - 1}), phantom::Lobe::LLL);
  EXPECT_EQ(chest.lobeAt({0, 0, -150}), std::nullopt);                  // mediastinum
  EXPECT_EQ(chest.lobeAt({-170, 0, -150}), std::nullopt);               // outside the body
  EXPECT_EQ(chest.lobeAt({xr, 0, p.domeRightZMm - 60}), std::nullopt);  // below the diaphragm
}

TEST(CohortGenerator, EveryNoteStatesEveryFactorAndNeverContradictsTheRecord) {
  PhantomOptions opt;
  opt.language = phantom::LanguageMix::Mixed;
  CohortGenerator gen(2024, opt);
  int chinese = 0;
  for (int i = 0; i < 200; ++i) {
    const Case c = gen.generateRecord(i);
    const auto& r = c.record;
    const int studyYear = std::stoi(c.studyDate.substr(0, 4));
    const bool zh = c.noteLanguage == phantom::Language::Chinese;
    chinese += zh ? 1 : 0;
    const ParsedNote p = zh ? parseChineseNote(c.note) : parseEnglishNote(c.note, studyYear);
    SCOPED_TRACE("case " + std::to_string(i) + ": " + c.note);
    EXPECT_EQ(c.note.find_first_of("{}"), std::string::npos) << "unfilled template placeholder";
    EXPECT_EQ(c.shortHistory.find_first_of("{}"), std::string::npos) << "unfilled template placeholder";
    ASSERT_TRUE(p.ageYears);
    EXPECT_EQ(*p.ageYears, r.ageYears);
    ASSERT_TRUE(p.sex);
    EXPECT_EQ(*p.sex, r.sex == phantom::Sex::Male ? 'M' : 'F');
    ASSERT_TRUE(p.smoking);
    EXPECT_EQ(*p.smoking, phantom::toString(r.smoking));
    ASSERT_TRUE(p.packYears);
    EXPECT_NEAR(*p.packYears, r.packYears, 0.05);
    if (r.smoking == phantom::SmokingStatus::Former) {
      ASSERT_TRUE(p.yearsSinceQuit);
      EXPECT_EQ(*p.yearsSinceQuit, r.yearsSinceQuit);
    } else {
      EXPECT_FALSE(p.yearsSinceQuit);
    }
    ASSERT_TRUE(p.familyHistory);
    EXPECT_EQ(*p.familyHistory, r.familyHistory);
    ASSERT_TRUE(p.priorCancer);
    EXPECT_EQ(*p.priorCancer, r.priorCancer);
    ASSERT_TRUE(p.symptoms);
    EXPECT_EQ(*p.symptoms, std::set<std::string>(r.symptoms.begin(), r.symptoms.end()));
  }
  EXPECT_GT(chinese, 60);
  EXPECT_LT(chinese, 140);
}

TEST(CohortGenerator, NotesVaryInWordingAndCarryNegationsAbbreviationsAndNoise) {
  CohortGenerator gen(9);
  std::set<std::string> openings;
  int negations = 0, abbreviations = 0, irrelevant = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string note = gen.generateRecord(i).note;
    openings.insert(note.substr(0, note.find_first_of("0123456789")));
    negations += (contains(note, "Denies") || contains(note, "denies") || contains(note, "No ") ||
                  contains(note, "negative"))
                     ? 1
                     : 0;
    abbreviations += (contains(note, "y/o") || contains(note, "pk-yr") || contains(note, "FHx") ||
                      contains(note, "hx") || contains(note, "PY"))
                         ? 1
                         : 0;
    irrelevant +=
        (contains(note, "BP ") || contains(note, "NKDA") || contains(note, "atorvastatin") ||
         contains(note, "BMI") || contains(note, "PCP") || contains(note, "alcohol") ||
         contains(note, "spouse") || contains(note, "dog") || contains(note, "outside") ||
         contains(note, "ypertension") || contains(note, "olonoscopy") || contains(note, "decision") ||
         contains(note, "accinations") || contains(note, "Retired") || contains(note, "schoolteacher"))
            ? 1
            : 0;
  }
  EXPECT_GE(openings.size(), 5u);
  EXPECT_GT(negations, 80);
  EXPECT_GT(abbreviations, 30);
  EXPECT_GT(irrelevant, 60);
  // Chinese notes come out in Chinese.
  PhantomOptions zh;
  zh.language = phantom::LanguageMix::Chinese;
  const Case c = CohortGenerator(9, zh).generateRecord(0);
  EXPECT_EQ(c.noteLanguage, phantom::Language::Chinese);
  EXPECT_TRUE(contains(c.note, "岁"));
  EXPECT_FALSE(c.shortHistory.empty());
}

TEST(CohortGenerator, BrockProbabilityLabelsAndLungRadsFollowTheFormulaAndTheRules) {
  PhantomOptions opt;
  opt.maxNodules = 4;
  CohortGenerator gen(77, opt);
  for (int i = 0; i < 300; ++i) {
    const Case c = gen.generateRecord(i);
    double maxP = 0;
    bool anyMalignant = false;
    std::vector<clinical::LungRadsNodule> lr;
    for (const auto& n : c.nodules) {
      clinical::BrockInput in;
      in.ageYears = c.record.ageYears;
      in.female = c.record.sex == phantom::Sex::Female;
      in.familyHistory = c.record.familyHistory;
      in.emphysema = c.emphysema;
      in.diameterMm = n.diameterMm;
      in.type = n.type;
      in.upperLobe = n.lobe == phantom::Lobe::RUL || n.lobe == phantom::Lobe::LUL;
      in.noduleCount = static_cast<int>(c.nodules.size());
      in.spiculated = n.spiculated;
      EXPECT_NEAR(n.brockProbability, clinical::brockProbability(in), 1e-12);
      if (n.calcified) EXPECT_FALSE(n.malignant);
      maxP = std::max(maxP, n.brockProbability);
      anyMalignant = anyMalignant || n.malignant;
      lr.push_back({n.type, n.diameterMm, n.solidDiameterMm, n.calcified});
    }
    EXPECT_DOUBLE_EQ(c.brockProbability, maxP);
    EXPECT_EQ(c.cancer, anyMalignant);
    EXPECT_EQ(c.lungRads, clinical::lungRadsExamCategory(lr));
    if (c.nodules.empty()) EXPECT_EQ(c.lungRads, clinical::LungRadsCategory::C1);
  }
}

TEST(CohortGenerator, TruthJsonIsValidAndHoldsTheRequiredKeys) {
  PhantomOptions mixed;
  mixed.language = phantom::LanguageMix::Mixed;
  CohortGenerator gen(3, mixed);
  for (int i = 0; i < 20; ++i) {
    const Case c = gen.generateRecord(i);
    const std::string j = c.truthJson();
    EXPECT_TRUE(JsonChecker(j).valid()) << j;
    for (const char* key : {"study_uid",
                            "series_uid",
                            "patient_id",
                            "cancer",
                            "brock_probability",
                            "lung_rads",
                            "emphysema",
                            "record",
                            "age",
                            "sex",
                            "family_history",
                            "smoking_status",
                            "pack_years",
                            "years_since_quit",
                            "prior_cancer",
                            "symptoms",
                            "nodules",
                            "generator_version",
                            "seed",
                            "index",
                            "note_language"})
      EXPECT_TRUE(contains(j, std::string("\"") + key + "\":")) << key;
    EXPECT_TRUE(contains(j, "\"study_uid\":\"" + c.studyInstanceUid + "\""));
    // The note travels escaped (newlines of sectioned notes) with its UTF-8 passed through.
    EXPECT_FALSE(contains(j, "\n"));
    if (contains(c.note, "\n")) EXPECT_TRUE(contains(j, "\\n"));
    if (c.noteLanguage == phantom::Language::Chinese) EXPECT_TRUE(contains(j, "岁"));
    EXPECT_TRUE(contains(j, "\"lung_rads\":\"" + clinical::toString(c.lungRads) + "\""));
    EXPECT_TRUE(contains(j, std::string("\"cancer\":") + (c.cancer ? "true" : "false")));
    if (!c.nodules.empty()) {
      for (const char* key : {"center_lps_mm", "diameter_mm", "long_axis_mm", "short_axis_mm",
                              "solid_diameter_mm", "type", "lobe", "spiculated", "calcified", "malignant"})
        EXPECT_TRUE(contains(j, std::string("\"") + key + "\":")) << key;
      EXPECT_TRUE(contains(j, "\"lobe\":\"" + phantom::toString(c.nodules[0].lobe) + "\""));
    }
  }
}

TEST(CohortGenerator, FhirBundleHoldsPatientObservationsFamilyHistoryAndConditions) {
  CohortGenerator gen(12);
  int positives = 0;
  for (int i = 0; i < 30; ++i) {
    const Case c = gen.generateRecord(i);
    const std::string b = c.fhirBundleJson();
    ASSERT_TRUE(JsonChecker(b).valid()) << b;
    EXPECT_TRUE(contains(b, R"("resourceType":"Bundle")"));
    EXPECT_TRUE(contains(b, R"("type":"collection")"));
    EXPECT_TRUE(contains(b, R"("resourceType":"Patient")"));
    EXPECT_TRUE(
        contains(b, std::string(R"("gender":")") + (c.record.sex == phantom::Sex::Male ? "male" : "female")));
    EXPECT_TRUE(contains(b, R"("code":"72166-2")"));
    EXPECT_TRUE(contains(b, R"("code":"8664-5")"));
    EXPECT_TRUE(contains(b, R"("resourceType":"FamilyMemberHistory")"));
    EXPECT_TRUE(contains(b, R"("resourceType":"Condition")"));
    const char* smokingCode = c.record.smoking == phantom::SmokingStatus::Never    ? "266919005"
                              : c.record.smoking == phantom::SmokingStatus::Former ? "8517006"
                                                                                   : "77176002";
    EXPECT_TRUE(contains(b, std::string(R"("code":")") + smokingCode + "\""));
    EXPECT_EQ(contains(b, R"("code":"363358000")"), c.record.familyHistory);
    positives += c.record.familyHistory ? 1 : 0;
    // birthDate: age at the study date equals the record's age.
    const auto at = b.find(R"("birthDate":")");
    ASSERT_NE(at, std::string::npos);
    const std::string bd = b.substr(at + 13, 10);
    const int by = std::stoi(bd.substr(0, 4)), bm = std::stoi(bd.substr(5, 2)),
              bdd = std::stoi(bd.substr(8, 2));
    const int sy = std::stoi(c.studyDate.substr(0, 4)), sm = std::stoi(c.studyDate.substr(4, 2)),
              sd = std::stoi(c.studyDate.substr(6, 2));
    const int age = sy - by - ((sm < bm || (sm == bm && sd < bdd)) ? 1 : 0);
    EXPECT_EQ(age, c.record.ageYears) << bd << " " << c.studyDate;
  }
  EXPECT_GT(positives, 0);
}

TEST(CohortGenerator, UidsAreDeterministicValidAndDistinct) {
  CohortGenerator gen(99);
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const Case c = gen.generateRecord(i);
    for (const auto& uid : {c.studyInstanceUid, c.seriesInstanceUid, c.frameOfReferenceUid}) {
      EXPECT_EQ(uid.rfind("2.25.", 0), 0u) << uid;
      EXPECT_LE(uid.size(), 64u);
      const std::string tail = uid.substr(5);
      EXPECT_TRUE(std::all_of(tail.begin(), tail.end(), ::isdigit)) << uid;
      EXPECT_TRUE(tail == "0" || tail[0] != '0') << uid;
      EXPECT_TRUE(seen.insert(uid).second) << uid;
    }
    EXPECT_EQ(c.patientName.rfind("PHANTOM^CASE", 0), 0u);
    EXPECT_EQ(c.patientId.rfind("MS", 0), 0u);
    EXPECT_LE(c.accessionNumber.size(), 16u);
  }
  EXPECT_EQ(CohortGenerator(99).generateRecord(4).studyInstanceUid, gen.generateRecord(4).studyInstanceUid);
}

TEST(CohortStatistics, CohortIsTrainableWithRealisticPrevalenceAndAnInformativeOracle) {
  const auto s = phantom::CohortStatistics::compute(1, 600);
  EXPECT_EQ(s.cases, 600);
  EXPECT_GT(s.prevalence, 0.12);
  EXPECT_LT(s.prevalence, 0.30);
  EXPECT_GT(s.brockOracleAuc, 0.75);
  EXPECT_GT(s.lungRadsCounts[static_cast<int>(clinical::LungRadsCategory::C1)], 0);
  EXPECT_GT(s.lungRadsCounts[static_cast<int>(clinical::LungRadsCategory::C4B)], 0);
  EXPECT_FALSE(s.summary().empty());
}

TEST(CohortStatistics, AucCountsTiesAsOneHalf) {
  EXPECT_DOUBLE_EQ(phantom::CohortStatistics::auc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  EXPECT_DOUBLE_EQ(phantom::CohortStatistics::auc({0.5, 0.5}, {false, true}), 0.5);
  EXPECT_DOUBLE_EQ(phantom::CohortStatistics::auc({0.9, 0.1}, {true, false}), 1.0);
}

TEST(CohortGenerator, RejectsInvalidOptionsWithAReadableError) {
  PhantomOptions bad;
  bad.maxNodules = -1;
  EXPECT_THROW(CohortGenerator(1, bad), phantom::PhantomError);
  bad.maxNodules = 3;
  bad.noNoduleFraction = 1.5;
  EXPECT_THROW(CohortGenerator(1, bad), phantom::PhantomError);
  EXPECT_THROW(CohortGenerator(1).generateRecord(-1), phantom::PhantomError);
}

TEST(CohortGenerator, SmallAndFullPresetsShowTheSameNoduleAtTheSameLpsCentre) {
  PhantomOptions small, full;
  full.size = SizePreset::Full;
  CohortGenerator gs(6, small), gf(6, full);
  const auto found = findNodules(
      gs, 200,
      [](const Nodule& n) {
        return n.type == clinical::NoduleType::Solid && !n.spiculated && !n.calcified && n.diameterMm >= 8;
      },
      1);
  ASSERT_EQ(found.size(), 1u);
  const Case s = gs.generate(found[0].first);
  const Case f = gf.generate(found[0].first);
  EXPECT_EQ(s.truthJson().substr(0, 200), f.truthJson().substr(0, 200));
  ASSERT_EQ(s.nodules.size(), f.nodules.size());
  const Nodule& n = f.nodules[found[0].second];
  EXPECT_EQ(n.centerLps, s.nodules[found[0].second].centerLps);
  const Blob bs = measureBlob(s.volume, n.centerLps, 0.5 * n.longAxisMm + 4.4, -400);
  const Blob bf = measureBlob(f.volume, n.centerLps, 0.5 * n.longAxisMm + 1.4, -400);
  std::cout << "nodule " << n.diameterMm << " mm: full blob " << bf.equivalentDiameterMm()
            << " mm, small blob " << bs.equivalentDiameterMm() << " mm, centroid offset "
            << distanceMm(bs.centroidLps, bf.centroidLps) << " mm\n";
  EXPECT_LT(distanceMm(bf.centroidLps, n.centerLps), 0.7);
  EXPECT_LT(distanceMm(bs.centroidLps, bf.centroidLps), 1.5);
  EXPECT_NEAR(bf.equivalentDiameterMm(), n.diameterMm, 1.0);
  EXPECT_NEAR(bs.equivalentDiameterMm(), bf.equivalentDiameterMm(), 2.2);
}
