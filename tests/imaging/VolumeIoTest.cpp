#include <gtest/gtest.h>

#include "TestVolumes.h"
#include "imaging/DicomError.h"
#include "imaging/SeriesLoader.h"
#include "imaging/VolumeIo.h"

class VolumeFormats : public ::testing::TestWithParam<const char*> {};

TEST_P(VolumeFormats, WrittenVolumeReadsBackWithSameVoxelsAndGeometry) {
  testvol::TempDir dir("volio");
  auto volume = testvol::makeVolume(20, 18, 6);
  auto g = volume.geometry();
  // An oblique direction to check that it survives (NIfTI converts LPS <-> RAS).
  const double c = std::cos(0.2), s = std::sin(0.2);
  g.directionLps = {c, -s, 0, s, c, 0, 0, 0, 1};
  volume = imaging::CtVolume(g, volume.valuesHu());
  const std::string path = (dir.path() / (std::string("v") + GetParam())).string();
  imaging::writeVolume(volume, path);
  const auto back = imaging::readVolume(path);
  EXPECT_TRUE(back.geometry().sameGridAs(volume.geometry(), 1e-3));
  EXPECT_TRUE(back.valuesHu() == volume.valuesHu());
}

INSTANTIATE_TEST_SUITE_P(Extensions, VolumeFormats, ::testing::Values(".nrrd", ".nii.gz", ".mha"));

TEST(VolumeIo, RefusesAnUnknownExtension) {
  EXPECT_THROW(imaging::writeVolume(testvol::makeVolume(4, 4, 2), "/tmp/x.png"), imaging::DicomError);
}

TEST(Resample, IsotropicResamplingKeepsExtentAndInterpolatesLinearly) {
  imaging::VolumeGeometry g;
  g.size = {4, 4, 3};
  g.spacingMm = {1.0, 1.0, 2.0};
  imaging::CtVolume v(g);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 4; ++i) v.at(i, j, k) = static_cast<int16_t>(100 * k);
  const auto iso = imaging::resampleIsotropic(v, 1.0);
  EXPECT_EQ(iso.geometry().size[0], 4);
  EXPECT_EQ(iso.geometry().size[2], 5);
  EXPECT_EQ(iso.at(1, 1, 0), 0);
  EXPECT_EQ(iso.at(1, 1, 1), 50);  // half-way between slices 0 and 1
  EXPECT_EQ(iso.at(1, 1, 4), 200);
}

TEST(ItkReference, GdcmSeriesReaderGivesTheSameVoxelsAsOurLoader) {
  testvol::TempDir dir("itkref");
  const auto volume = testvol::makeVolume(32, 32, 10);
  imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  imaging::CtVolume itk;
  const auto r = imaging::loadSeriesWithItk(dir.str(), &itk);
  EXPECT_EQ(r.slices, 10u);
  EXPECT_TRUE(itk.valuesHu() == imaging::loadSeries(dir.str()).volume.valuesHu());
}
