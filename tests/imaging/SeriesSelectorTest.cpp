#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "TestVolumes.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"
#include "imaging/SeriesSelector.h"

namespace fs = std::filesystem;

namespace {
void editAll(const fs::path& dir, const std::function<void(DcmDataset&)>& edit) {
  for (const auto& e : fs::directory_iterator(dir)) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(e.path().c_str()).good());
    ff.loadAllDataIntoMemory();
    edit(*ff.getDataset());
    ASSERT_TRUE(ff.saveFile(e.path().c_str(), ff.getDataset()->getOriginalXfer()).good());
  }
}

std::string reasonsOf(const std::vector<imaging::SeriesCandidate>& ranked, const std::string& uid) {
  for (const auto& c : ranked)
    if (c.series->seriesInstanceUid == uid) {
      std::string s;
      for (const auto& r : c.reasons) s += r + "; ";
      return s;
    }
  return "(not found)";
}
}  // namespace

TEST(SeriesSelector, PrefersTheThinAxialSeriesAndExplainsEveryExclusion) {
  testvol::TempDir dir("select");
  auto thin = testvol::makeMeta("P", "1.9.1");
  thin.seriesNumber = 3;
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 24, 1.0), thin, (dir.path() / "thin").string());
  auto thick = testvol::makeMeta("P", "1.9.2");
  thick.seriesNumber = 4;
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 12, 3.0), thick, (dir.path() / "thick").string());
  auto scout = testvol::makeMeta("P", "1.9.3");
  scout.seriesDescription = "Topogram 0.6 T20f";
  scout.seriesNumber = 1;
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 1), scout, (dir.path() / "scout").string());
  editAll(dir.path() / "scout",
          [](DcmDataset& ds) { ds.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\LOCALIZER"); });
  auto derived = testvol::makeMeta("P", "1.9.4");
  derived.seriesNumber = 5;
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 24), derived, (dir.path() / "mip").string());
  editAll(dir.path() / "mip",
          [](DcmDataset& ds) { ds.putAndInsertString(DCM_ImageType, "DERIVED\\SECONDARY\\AXIAL"); });
  auto thickest = testvol::makeMeta("P", "1.9.5");
  thickest.seriesNumber = 6;
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 12, 8.0), thickest, (dir.path() / "eight").string());
  auto sagittal = testvol::makeMeta("P", "1.9.6");
  sagittal.seriesNumber = 7;
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 24), sagittal, (dir.path() / "sag").string());
  editAll(dir.path() / "sag",
          [](DcmDataset& ds) { ds.putAndInsertString(DCM_ImageOrientationPatient, "0\\1\\0\\0\\0\\-1"); });

  const auto index = imaging::DicomIndex::scan(dir.str());
  const auto ranked = imaging::rankSeriesForChestCt(index);
  ASSERT_EQ(ranked.size(), 6u);
  EXPECT_TRUE(ranked[0].eligible);
  EXPECT_EQ(ranked[0].series->seriesInstanceUid, "1.9.1");
  EXPECT_TRUE(ranked[1].eligible);
  EXPECT_EQ(ranked[1].series->seriesInstanceUid, "1.9.2");
  EXPECT_NE(reasonsOf(ranked, "1.9.3").find("localizer"), std::string::npos);
  EXPECT_NE(reasonsOf(ranked, "1.9.4").find("derived"), std::string::npos);
  EXPECT_NE(reasonsOf(ranked, "1.9.5").find("thick"), std::string::npos);
  EXPECT_NE(reasonsOf(ranked, "1.9.6").find("not axial"), std::string::npos);

  const auto best = imaging::loadBestSeries(dir.str());
  EXPECT_EQ(best.seriesInstanceUid, "1.9.1");
  EXPECT_EQ(best.volume.geometry().size[2], 24);
  EXPECT_GE(best.warnings.size(), 4u);  // every skipped series is reported
}

TEST(SeriesSelector, RefusesAFolderWithoutChestCtListingEverySeries) {
  testvol::TempDir dir("select_none");
  auto mr = testvol::makeMeta("P", "1.8.1");
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 3), mr, dir.str());
  try {
    imaging::loadBestSeries(dir.str());
    FAIL() << "expected DicomError";
  } catch (const imaging::DicomError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("1.8.1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("only 3 image(s)"), std::string::npos) << msg;
  }
}
