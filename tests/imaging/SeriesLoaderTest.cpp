#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "TestVolumes.h"
#include "imaging/CtSeriesWriter.h"
#include "imaging/DicomError.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"

namespace fs = std::filesystem;

namespace {

void expectSameVolume(const imaging::CtVolume& a, const imaging::CtVolume& b) {
  ASSERT_EQ(a.geometry().size, b.geometry().size);
  EXPECT_TRUE(a.geometry().sameGridAs(b.geometry(), 1e-4));
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(a.geometry().spacingMm[c], b.geometry().spacingMm[c], 1e-6);
  EXPECT_TRUE(a.valuesHu() == b.valuesHu());
}

/// Loads `file`, applies `edit` to its dataset, saves it back in its transfer syntax.
void editFile(const std::string& file, const std::function<void(DcmDataset&)>& edit) {
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(file.c_str()).good()) << file;
  ff.loadAllDataIntoMemory();
  edit(*ff.getDataset());
  const E_TransferSyntax xfer = ff.getDataset()->getOriginalXfer();
  ASSERT_TRUE(ff.saveFile(file.c_str(), xfer).good()) << file;
}

std::string loadError(const std::string& dir) {
  try {
    imaging::loadSeries(dir);
  } catch (const imaging::DicomError& e) {
    return e.what();
  }
  return "(no error)";
}

void setPosition(const std::string& file, double x, double y, double z) {
  editFile(file, [&](DcmDataset& ds) {
    const std::string v = std::to_string(x) + "\\" + std::to_string(y) + "\\" + std::to_string(z);
    ds.putAndInsertString(DCM_ImagePositionPatient, v.c_str());
  });
}

struct Written {
  std::unique_ptr<testvol::TempDir> dir;
  imaging::CtVolume volume;
  std::vector<std::string> files;
};

Written writeGood(const std::string& name,
                  imaging::TransferSyntax ts = imaging::TransferSyntax::ExplicitVrLittleEndian) {
  Written w;
  w.dir = std::make_unique<testvol::TempDir>(name);
  w.volume = testvol::makeVolume();
  imaging::CtSeriesWriteOptions o;
  o.transferSyntax = ts;
  w.files = imaging::writeCtSeries(w.volume, testvol::makeMeta(), w.dir->str(), o);
  return w;
}

const std::string kSeriesUid = "1.2.826.0.1.3680043.10.1234.1.2";

}  // namespace

class RoundTrip : public ::testing::TestWithParam<imaging::TransferSyntax> {};

TEST_P(RoundTrip, WrittenSeriesLoadsBackWithTheSameHuVoxels) {
  auto w = writeGood("roundtrip", GetParam());
  const auto loaded = imaging::loadSeries(w.dir->str());
  expectSameVolume(loaded.volume, w.volume);
  EXPECT_EQ(loaded.patientId, "MS-TEST-1");
  EXPECT_EQ(loaded.seriesInstanceUid, kSeriesUid);
  EXPECT_EQ(loaded.convolutionKernel, "B30f");
  EXPECT_EQ(loaded.additionalPatientHistory, "62 y/o female, former smoker, 30 pack-years");
}

INSTANTIATE_TEST_SUITE_P(EveryLosslessTransferSyntax, RoundTrip,
                         ::testing::ValuesIn(testvol::everyTransferSyntax()));

TEST(SeriesLoader, KeepsNegativeHuBelowMinus1024WithSignedStorage) {
  testvol::TempDir dir("signed");
  auto v = testvol::makeVolume(16, 16, 4);
  v.at(0, 0, 0) = -2000;
  v.at(1, 0, 0) = 30000;
  imaging::writeCtSeries(v, testvol::makeMeta(), dir.str());
  expectSameVolume(imaging::loadSeries(dir.str()).volume, v);
}

TEST(SeriesLoader, ShuffledFileOrderLoadsIdentically) {
  auto w = writeGood("shuffled");
  std::vector<std::string> names(w.files.size());
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = "x" + std::to_string(i);
  std::shuffle(names.begin(), names.end(), std::mt19937(7));
  for (std::size_t i = 0; i < names.size(); ++i) fs::rename(w.files[i], w.dir->path() / names[i]);
  expectSameVolume(imaging::loadSeries(w.dir->str()).volume, w.volume);
}

TEST(SeriesLoader, TwoInterleavedSeriesAreSeparated) {
  testvol::TempDir dir("interleaved");
  const auto a = testvol::makeVolume(32, 32, 12);
  auto b = testvol::makeVolume(32, 32, 12, 2.5);
  for (auto& x : b.valuesHu()) x = static_cast<int16_t>(x / 2);
  imaging::writeCtSeries(a, testvol::makeMeta("P1", "1.2.3.4.1"), (dir.path() / "a").string());
  imaging::writeCtSeries(b, testvol::makeMeta("P1", "1.2.3.4.2"), (dir.path() / "b").string());
  const fs::path mixed = dir.path() / "mixed";
  fs::create_directories(mixed);
  int n = 0;
  for (const char* sub : {"a", "b"})
    for (const auto& e : fs::directory_iterator(dir.path() / sub))
      fs::rename(e.path(), mixed / ("IM" + std::to_string(1000 + (n++ * 7919) % 997)));
  const auto index = imaging::DicomIndex::scan(mixed.string());
  ASSERT_EQ(index.seriesCount(), 2u);
  expectSameVolume(imaging::loadSeries(*index.findSeries("1.2.3.4.1")).volume, a);
  expectSameVolume(imaging::loadSeries(*index.findSeries("1.2.3.4.2")).volume, b);
  EXPECT_NE(loadError(mixed.string()).find("2 image series"), std::string::npos);
}

TEST(SeriesLoader, CancelledByTheProgressCallback) {
  auto w = writeGood("cancel");
  imaging::LoadOptions o;
  o.progress = [](double f) { return f < 0.2; };
  EXPECT_THROW(imaging::loadSeries(w.dir->str(), o), imaging::LoadCancelled);
}

TEST(SeriesLoader, ReportsProgressUpToOne) {
  auto w = writeGood("progress");
  imaging::LoadOptions o;
  double last = 0;
  o.progress = [&](double f) {
    last = std::max(last, f);
    return true;
  };
  imaging::loadSeries(w.dir->str(), o);
  EXPECT_DOUBLE_EQ(last, 1.0);
}

// ---- malformed series: each refused with a message naming the series and the slice ------------------

struct Broken {
  const char* name;
  std::function<void(Written&)> breakIt;
  const char* expected;  // part of the message
  const char* fileHint;  // file name the message must contain ("" when the problem is series-wide)
};

class RefusesBrokenSeries : public ::testing::TestWithParam<Broken> {};

TEST_P(RefusesBrokenSeries, WithAMessageNamingSeriesAndSlice) {
  auto w = writeGood(GetParam().name);
  GetParam().breakIt(w);
  const std::string msg = loadError(w.dir->str());
  if (std::getenv("MEDSEEK_SHOW_MESSAGES")) std::printf("%s\n", msg.c_str());
  EXPECT_NE(msg.find(kSeriesUid), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam().fileHint), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Geometry, RefusesBrokenSeries,
    ::testing::Values(
        Broken{"MissingSlice", [](Written& w) { fs::remove(w.files[7]); }, "missing slice", "IM00009.dcm"},
        Broken{"DuplicatePosition",
               [](Written& w) { setPosition(w.files[5], -22.4, -24.0, -100.0 + 4 * 1.25); },
               "duplicate slice position", "IM00006.dcm"},
        Broken{"GantryTilt",
               [](Written& w) {
                 for (std::size_t k = 0; k < w.files.size(); ++k)
                   setPosition(w.files[k], -22.4, -24.0 + 0.3 * k, -100.0 + 1.25 * k);
               },
               "tilt", "IM0000"},
        Broken{"MixedOrientation",
               [](Written& w) {
                 editFile(w.files[3], [](DcmDataset& ds) {
                   ds.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\0\\-1");
                 });
               },
               "mixed orientation", "IM00004.dcm"},
        Broken{"OtherPatient",
               [](Written& w) {
                 editFile(w.files[2],
                          [](DcmDataset& ds) { ds.putAndInsertString(DCM_PatientID, "INTRUDER"); });
               },
               "several patients", "IM00003.dcm"},
        Broken{"MissingPosition",
               [](Written& w) {
                 editFile(w.files[11],
                          [](DcmDataset& ds) { ds.findAndDeleteElement(DCM_ImagePositionPatient); });
               },
               "no ImagePositionPatient", "IM00012.dcm"},
        Broken{"TruncatedPixelData",
               [](Written& w) { fs::resize_file(w.files[9], fs::file_size(w.files[9]) - 1000); }, "truncated",
               "IM00010.dcm"},
        Broken{"RowsColumnsOverflow",
               [](Written& w) {
                 for (const auto& f : w.files)
                   editFile(f, [](DcmDataset& ds) {
                     ds.putAndInsertUint16(DCM_Rows, 65535);
                     ds.putAndInsertUint16(DCM_Columns, 65535);
                   });
               },
               "exceed", ""},
        Broken{"InconsistentRows",
               [](Written& w) {
                 editFile(w.files[4], [](DcmDataset& ds) { ds.putAndInsertUint16(DCM_Rows, 60); });
               },
               "inconsistent image size", "IM00005.dcm"},
        Broken{"EnhancedMultiFrameCt",
               [](Written& w) {
                 editFile(w.files[0], [](DcmDataset& ds) {
                   ds.putAndInsertString(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2.1");
                 });
               },
               "enhanced multi-frame CT", "IM00001.dcm"},
        Broken{"MultiFrame",
               [](Written& w) {
                 editFile(w.files[1], [](DcmDataset& ds) { ds.putAndInsertString(DCM_NumberOfFrames, "2"); });
               },
               "2 frames", "IM00002.dcm"},
        Broken{"WrongVr",
               [](Written& w) {
                 editFile(w.files[6], [](DcmDataset& ds) {
                   ds.findAndDeleteElement(DCM_Rows);
                   auto* e = new DcmDecimalString(DcmTag(DCM_Rows, EVR_DS));
                   e->putString("64");
                   ds.insert(e, true);
                 });
               },
               "wrong VR", "IM00007.dcm"}),
    [](const ::testing::TestParamInfo<Broken>& info) { return std::string(info.param.name); });
