#include <gtest/gtest.h>

#include <cmath>

#include "clinical/Brock.h"
#include "clinical/LungRads.h"
#include "imaging/CtVolume.h"

using imaging::CtVolume;
using imaging::VolumeGeometry;

TEST(CtVolume, IndexIsColumnFastestThenRowThenSlice) {
  VolumeGeometry g;
  g.size = {4, 3, 2};
  CtVolume v(g);
  EXPECT_EQ(v.valuesHu().size(), 24u);
  EXPECT_EQ(v.index(1, 0, 0), 1u);
  EXPECT_EQ(v.index(0, 1, 0), 4u);
  EXPECT_EQ(v.index(0, 0, 1), 12u);
  v.at(3, 2, 1) = 55;
  EXPECT_EQ(v.valuesHu().back(), 55);
  EXPECT_EQ(v.at(0, 0, 0), CtVolume::kAirHu);
}

TEST(CtVolume, UninitializedVolumeHasTheGridSizeAndKeepsWhatIsWritten) {
  VolumeGeometry g;
  g.size = {5, 4, 3};
  g.spacingMm = {0.5, 0.5, 2.0};
  CtVolume v = CtVolume::uninitialized(g);
  ASSERT_EQ(v.valuesHu().size(), g.voxelCount());
  EXPECT_TRUE(v.geometry().sameGridAs(g));
  for (std::size_t i = 0; i < v.valuesHu().size(); ++i) v.data()[i] = static_cast<int16_t>(i);
  EXPECT_EQ(v.at(4, 3, 2), 59);
  // resize() without a value leaves new voxels unwritten; with a value it fills like std::vector.
  CtVolume::Values values(3, int16_t{-1024});
  values.resize(5, int16_t{7});
  EXPECT_EQ(values, (CtVolume::Values{-1024, -1024, -1024, 7, 7}));
}

TEST(CtVolume, LpsFromIjkAndBackRoundTripWithObliqueDirection) {
  VolumeGeometry g;
  g.size = {10, 10, 10};
  g.spacingMm = {0.7, 0.8, 2.5};
  g.originLps = {-100, 50, 30};
  const double c = std::cos(0.3), s = std::sin(0.3);
  g.directionLps = {c, 0, s, 0, 1, 0, -s, 0, c};
  const auto p = g.lpsFromIjk({2, 3, 4});
  const auto ijk = g.ijkFromLps(p);
  EXPECT_NEAR(ijk[0], 2, 1e-9);
  EXPECT_NEAR(ijk[1], 3, 1e-9);
  EXPECT_NEAR(ijk[2], 4, 1e-9);
  EXPECT_NEAR(p[1], 50 + 3 * 0.8, 1e-9);
}

TEST(CtVolume, RejectsVoxelCountThatDoesNotMatchTheGrid) {
  VolumeGeometry g;
  g.size = {2, 2, 2};
  EXPECT_THROW(CtVolume(g, CtVolume::Values(7)), std::invalid_argument);
}

TEST(Brock, MatchesTheDomainFormulaForAReferenceNodule) {
  clinical::BrockInput in;
  in.ageYears = 70;
  in.female = true;
  in.familyHistory = true;
  in.emphysema = false;
  in.diameterMm = 12;
  in.type = clinical::NoduleType::PartSolid;
  in.upperLobe = true;
  in.noduleCount = 2;
  in.spiculated = true;
  const double logit = -6.7892 + 0.0287 * 8 + 0.6011 + 0.2961 + 0 -
                       5.3854 * (std::pow(1.2, -0.5) - 1.58113883) + 0.377 + 0.6581 -
                       0.0824 * (2 - 4) + 0.7729;
  EXPECT_NEAR(clinical::brockLogit(in), logit, 1e-12);
  EXPECT_NEAR(clinical::brockProbability(in), 1 / (1 + std::exp(-logit)), 1e-12);
}

TEST(Brock, LargerNodulesAreMoreSuspicious) {
  clinical::BrockInput small, large;
  small.diameterMm = 4;
  large.diameterMm = 20;
  EXPECT_LT(clinical::brockProbability(small), clinical::brockProbability(large));
}

namespace {
std::string cat(clinical::NoduleType t, double mean, double solid = -1) {
  return clinical::toString(clinical::lungRadsCategory({t, mean, solid < 0 ? mean : solid}));
}
}  // namespace

TEST(LungRads, SolidNoduleThresholdsAt6And8And15Mm) {
  using clinical::NoduleType;
  EXPECT_EQ(cat(NoduleType::Solid, 5.9), "2");
  EXPECT_EQ(cat(NoduleType::Solid, 6.0), "3");
  EXPECT_EQ(cat(NoduleType::Solid, 7.9), "3");
  EXPECT_EQ(cat(NoduleType::Solid, 8.0), "4A");
  EXPECT_EQ(cat(NoduleType::Solid, 14.9), "4A");
  EXPECT_EQ(cat(NoduleType::Solid, 15.0), "4B");
}

TEST(LungRads, PartSolidNoduleGoesBySolidComponent) {
  using clinical::NoduleType;
  EXPECT_EQ(cat(NoduleType::PartSolid, 5.9, 3), "2");
  EXPECT_EQ(cat(NoduleType::PartSolid, 6.0, 5.9), "3");
  EXPECT_EQ(cat(NoduleType::PartSolid, 12, 6.0), "4A");
  EXPECT_EQ(cat(NoduleType::PartSolid, 12, 7.9), "4A");
  EXPECT_EQ(cat(NoduleType::PartSolid, 12, 8.0), "4B");
}

// The screening pipeline recycles voxel buffers: a freed volume's memory serves the next volume of the same
// size (no fresh page faults), and a recycled volume is a normal volume.
TEST(CtVolume, RecyclesALargeBufferForTheNextVolumeOfTheSameSize) {
  imaging::VolumeGeometry g;
  g.size = {512, 512, 40};  // 20 MB
  const void* first = nullptr;
  imaging::setVoxelBufferRecycling(std::size_t{1} << 30);
  const auto before = imaging::voxelBufferCounts();
  {
    auto v = imaging::CtVolume::uninitialized(g);
    first = v.valuesHu().data();
  }
  {
    auto v = imaging::CtVolume::uninitialized(g);
    EXPECT_EQ(static_cast<const void*>(v.valuesHu().data()), first);
    const auto after = imaging::voxelBufferCounts();  // the screening summary reports these
    EXPECT_EQ(after.fresh - before.fresh, 1u);
    EXPECT_EQ(after.reused - before.reused, 1u);
    v.at(511, 511, 39) = 123;
    EXPECT_EQ(v.at(511, 511, 39), 123);
    EXPECT_EQ(v.valuesHu().size(), g.voxelCount());
  }
  imaging::setVoxelBufferRecycling(0);  // off: frees what was kept
}

TEST(LungRads, NonSolidNoduleThresholdAt30Mm) {
  using clinical::NoduleType;
  EXPECT_EQ(cat(NoduleType::NonSolid, 29.9, 0), "2");
  EXPECT_EQ(cat(NoduleType::NonSolid, 30.0, 0), "3");
}

TEST(LungRads, ExamCategoryIsTheMostSuspiciousNoduleAndOneWhenNone) {
  using clinical::NoduleType;
  EXPECT_EQ(clinical::toString(clinical::lungRadsExamCategory({})), "1");
  EXPECT_EQ(clinical::toString(clinical::lungRadsExamCategory(
                {{NoduleType::Solid, 4, 4}, {NoduleType::Solid, 9, 9}, {NoduleType::NonSolid, 31, 0}})),
            "4A");
  EXPECT_TRUE(clinical::isPositive(clinical::LungRadsCategory::C3));
  EXPECT_FALSE(clinical::isPositive(clinical::LungRadsCategory::C2));
}

TEST(LungRads, CalcifiedNoduleIsBenignWhateverItsSize) {
  clinical::LungRadsNodule n{clinical::NoduleType::Solid, 20, 20, true};
  EXPECT_EQ(clinical::toString(clinical::lungRadsCategory(n)), "2");
}
