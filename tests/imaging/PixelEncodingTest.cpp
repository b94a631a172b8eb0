// Stored-value semantics: BitsStored masking, signed data, Pixel Padding Value, per-slice rescale.
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include "TestVolumes.h"
#include "imaging/SeriesLoader.h"

namespace {
/// Rewrites every file: stored = f(stored) and extra attributes.
void rewrite(const std::vector<std::string>& files,
             const std::function<void(DcmDataset&, std::vector<Uint16>&, std::size_t)>& f) {
  for (std::size_t k = 0; k < files.size(); ++k) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(files[k].c_str()).good());
    ff.loadAllDataIntoMemory();
    DcmDataset& ds = *ff.getDataset();
    const Uint16* p = nullptr;
    unsigned long n = 0;
    ASSERT_TRUE(ds.findAndGetUint16Array(DCM_PixelData, p, &n).good());
    std::vector<Uint16> v(p, p + n);
    f(ds, v, k);
    ASSERT_TRUE(ds.putAndInsertUint16Array(DCM_PixelData, v.data(), n).good());
    ASSERT_TRUE(ff.saveFile(files[k].c_str(), ds.getOriginalXfer()).good());
  }
}
}  // namespace

TEST(PixelEncoding, MasksJunkHighBitsAboveBitsStored) {
  testvol::TempDir dir("bits12");
  const auto volume = testvol::makeVolume(16, 16, 4);
  const auto files = imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  rewrite(files, [](DcmDataset& ds, std::vector<Uint16>& v, std::size_t) {
    ds.putAndInsertUint16(DCM_BitsStored, 12);
    ds.putAndInsertUint16(DCM_HighBit, 11);
    for (auto& x : v) x = static_cast<Uint16>(x | 0xB000);  // overlay junk in bits 12..15
  });
  EXPECT_TRUE(imaging::loadSeries(dir.str()).volume.valuesHu() == volume.valuesHu());
}

TEST(PixelEncoding, MapsPixelPaddingValueToAir) {
  testvol::TempDir dir("padding");
  auto volume = testvol::makeVolume(16, 16, 4);
  const auto files = imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  rewrite(files, [](DcmDataset& ds, std::vector<Uint16>& v, std::size_t) {
    ds.putAndInsertUint16(DCM_PixelPaddingValue, 60000);
    v[0] = 60000;  // would be 58976 HU without padding
  });
  const auto loaded = imaging::loadSeries(dir.str());
  for (int k = 0; k < 4; ++k) EXPECT_EQ(loaded.volume.at(0, 0, k), -1024);
  EXPECT_EQ(loaded.volume.at(5, 8, 2), volume.at(5, 8, 2));
}

TEST(PixelEncoding, AppliesEachSlicesOwnRescale) {
  testvol::TempDir dir("rescale");
  const auto volume = testvol::makeVolume(16, 16, 4);
  const auto files = imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  // Slice k stores (HU + 1024 + 100k) / 1 with intercept -1024 - 100k; slice 3 uses slope 2.
  rewrite(files, [](DcmDataset& ds, std::vector<Uint16>& v, std::size_t k) {
    if (k == 3) {
      for (auto& x : v) x = static_cast<Uint16>(x / 2);
      ds.putAndInsertString(DCM_RescaleSlope, "2");
      return;
    }
    for (auto& x : v) x = static_cast<Uint16>(x + 100 * k);
    ds.putAndInsertString(DCM_RescaleIntercept, std::to_string(-1024 - 100 * static_cast<int>(k)).c_str());
  });
  const auto loaded = imaging::loadSeries(dir.str());
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 16; ++j)
      for (int i = 0; i < 16; ++i) ASSERT_EQ(loaded.volume.at(i, j, k), volume.at(i, j, k));
  for (int j = 0; j < 16; ++j)
    for (int i = 0; i < 16; ++i)
      ASSERT_EQ(loaded.volume.at(i, j, 3), ((volume.at(i, j, 3) + 1024) / 2) * 2 - 1024);
}

TEST(PixelEncoding, ReadsSignedStoredValues) {
  testvol::TempDir dir("signed12");
  const auto volume = testvol::makeVolume(16, 16, 3);
  const auto files = imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  rewrite(files, [](DcmDataset& ds, std::vector<Uint16>& v, std::size_t) {
    // Signed 12-bit stored HU with intercept 0 and junk in the top nibble.
    ds.putAndInsertUint16(DCM_PixelRepresentation, 1);
    ds.putAndInsertUint16(DCM_BitsStored, 12);
    ds.putAndInsertUint16(DCM_HighBit, 11);
    ds.putAndInsertString(DCM_RescaleIntercept, "0");
    for (auto& x : v) {
      const int hu = static_cast<int>(x) - 1024;
      x = static_cast<Uint16>((static_cast<Uint16>(hu) & 0x0FFF) | 0x5000);
    }
  });
  EXPECT_TRUE(imaging::loadSeries(dir.str()).volume.valuesHu() == volume.valuesHu());
}

TEST(PixelEncoding, ReadsSigned16BitStoredHuWithInterceptZeroAsTheyAre) {
  testvol::TempDir dir("signed16");
  const auto volume = testvol::makeVolume(16, 16, 3);
  const auto files = imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  rewrite(files, [](DcmDataset& ds, std::vector<Uint16>& v, std::size_t) {
    // The loader's no-conversion path: the stored words are the HU.
    ds.putAndInsertUint16(DCM_PixelRepresentation, 1);
    ds.putAndInsertString(DCM_RescaleIntercept, "0");
    for (auto& x : v) x = static_cast<Uint16>(static_cast<int>(x) - 1024);
  });
  EXPECT_TRUE(imaging::loadSeries(dir.str()).volume.valuesHu() == volume.valuesHu());
}
