#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "TestVolumes.h"
#include "imaging/DicomError.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"

namespace fs = std::filesystem;

namespace {
void expectSameRecords(const imaging::DicomIndex& a, const imaging::DicomIndex& b) {
  const auto sa = a.allSeries();
  const auto sb = b.allSeries();
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t s = 0; s < sa.size(); ++s) {
    const auto& x = *sa[s];
    const auto& y = *sb[s];
    EXPECT_EQ(x.seriesInstanceUid, y.seriesInstanceUid);
    EXPECT_EQ(x.patientId, y.patientId);
    EXPECT_EQ(x.patientName, y.patientName);
    EXPECT_EQ(x.patientSex, y.patientSex);
    EXPECT_EQ(x.patientAge, y.patientAge);
    EXPECT_EQ(x.studyInstanceUid, y.studyInstanceUid);
    EXPECT_EQ(x.studyDate, y.studyDate);
    EXPECT_EQ(x.modality, y.modality);
    EXPECT_EQ(x.seriesDescription, y.seriesDescription);
    EXPECT_EQ(x.convolutionKernel, y.convolutionKernel);
    EXPECT_EQ(x.imageType, y.imageType);
    EXPECT_EQ(x.sopClassUid, y.sopClassUid);
    EXPECT_EQ(x.additionalPatientHistory, y.additionalPatientHistory);
    EXPECT_EQ(x.seriesNumber, y.seriesNumber);
    EXPECT_DOUBLE_EQ(x.sliceThicknessMm, y.sliceThicknessMm);
    ASSERT_EQ(x.instances.size(), y.instances.size());
    for (std::size_t i = 0; i < x.instances.size(); ++i) {
      const auto& p = x.instances[i];
      const auto& q = y.instances[i];
      SCOPED_TRACE(p.path);
      EXPECT_EQ(p.path, q.path);
      EXPECT_EQ(p.sopInstanceUid, q.sopInstanceUid);
      EXPECT_EQ(p.hasPosition, q.hasPosition);
      EXPECT_EQ(p.positionLps, q.positionLps);
      EXPECT_EQ(p.orientation, q.orientation);
      EXPECT_EQ(p.pixelSpacingMm, q.pixelSpacingMm);
      EXPECT_EQ(p.rows, q.rows);
      EXPECT_EQ(p.columns, q.columns);
      EXPECT_EQ(p.bitsAllocated, q.bitsAllocated);
      EXPECT_EQ(p.bitsStored, q.bitsStored);
      EXPECT_EQ(p.highBit, q.highBit);
      EXPECT_EQ(p.pixelRepresentation, q.pixelRepresentation);
      EXPECT_EQ(p.photometricInterpretation, q.photometricInterpretation);
      EXPECT_DOUBLE_EQ(p.rescaleSlope, q.rescaleSlope);
      EXPECT_DOUBLE_EQ(p.rescaleIntercept, q.rescaleIntercept);
      EXPECT_EQ(p.hasPixelPadding, q.hasPixelPadding);
      EXPECT_EQ(p.pixelPaddingValue, q.pixelPaddingValue);
      EXPECT_EQ(p.instanceNumber, q.instanceNumber);
      EXPECT_EQ(p.frames, q.frames);
      // The DCMTK reader only knows the offset when PixelData ends the file; the fast reader always does.
      if (q.pixelDataOffset >= 0) EXPECT_EQ(p.pixelDataOffset, q.pixelDataOffset);
      EXPECT_EQ(p.headerProblem.empty(), q.headerProblem.empty())
          << p.headerProblem << " | " << q.headerProblem;
    }
  }
}
}  // namespace

TEST(DicomIndex, NamesTheMissingPathInTheError) {
  try {
    imaging::DicomIndex::scan("/nonexistent/medseek/path");
    FAIL() << "expected DicomError";
  } catch (const imaging::DicomError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/medseek/path"), std::string::npos);
  }
}

TEST(DicomIndex, SkipsNonDicomFilesAfterTheSniff) {
  testvol::TempDir dir("index_nondicom");
  std::ofstream(dir.path() / "notes.txt") << "not a DICOM file";
  std::ofstream(dir.path() / "big.bin") << std::string(1 << 20, 'x');
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 3), testvol::makeMeta(), (dir.path() / "CT").string());
  const auto index = imaging::DicomIndex::scan(dir.str());
  EXPECT_EQ(index.filesScanned, 5u);
  EXPECT_EQ(index.nonDicomFiles, 2u);
  EXPECT_EQ(index.dicomFiles, 3u);
  EXPECT_TRUE(index.problems.empty());
}

TEST(DicomIndex, GroupsSeriesUnderPatientAndStudyWithBrowserAttributes) {
  testvol::TempDir dir("index_groups");
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 4), testvol::makeMeta("P1", "1.2.3.1"),
                         (dir.path() / "a").string());
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 5), testvol::makeMeta("P1", "1.2.3.2"),
                         (dir.path() / "b").string());
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 2), testvol::makeMeta("P2", "1.2.3.3"),
                         (dir.path() / "c").string());
  const auto index = imaging::DicomIndex::scan(dir.str());
  ASSERT_EQ(index.patients.size(), 2u);
  EXPECT_EQ(index.seriesCount(), 3u);
  const auto* s = index.findSeries("1.2.3.2");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->instances.size(), 5u);
  EXPECT_EQ(s->modality, "CT");
  EXPECT_EQ(s->convolutionKernel, "B30f");
  EXPECT_EQ(s->imageType, "ORIGINAL\\PRIMARY\\AXIAL");
  EXPECT_EQ(s->sopClassUid, "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_DOUBLE_EQ(s->sliceThicknessMm, 1.25);
  EXPECT_EQ(s->studyDate, "20260101");
  EXPECT_EQ(s->seriesDescription, "Chest 1.25mm");
  EXPECT_EQ(s->patientAge, "062Y");
}

class FastHeaderReader : public ::testing::TestWithParam<imaging::TransferSyntax> {};

TEST_P(FastHeaderReader, GivesTheSameIndexAsDcmtk) {
  testvol::TempDir dir("index_fast");
  imaging::CtSeriesWriteOptions o;
  o.transferSyntax = GetParam();
  auto meta = testvol::makeMeta();
  meta.additionalPatientHistory = "58岁男性，吸烟史";
  imaging::writeCtSeries(testvol::makeVolume(16, 16, 4), meta, dir.str(), o);
  imaging::ScanOptions dcmtk;
  dcmtk.fastHeaderReader = false;
  expectSameRecords(imaging::DicomIndex::scan(dir.str()), imaging::DicomIndex::scan(dir.str(), dcmtk));
}

INSTANTIATE_TEST_SUITE_P(Syntaxes, FastHeaderReader,
                         ::testing::Values(imaging::TransferSyntax::ExplicitVrLittleEndian,
                                           imaging::TransferSyntax::ImplicitVrLittleEndian,
                                           imaging::TransferSyntax::JpegLossless,
                                           imaging::TransferSyntax::Jpeg2000Lossless,
                                           imaging::TransferSyntax::RleLossless));

TEST(FastHeaderReader, GivesTheSameIndexAsDcmtkOnThePydicomCorpus) {
  const char* corpus = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "python3-pydicom test files are not installed";
  imaging::ScanOptions dcmtk;
  dcmtk.fastHeaderReader = false;
  const auto fast = imaging::DicomIndex::scan(corpus);
  const auto slow = imaging::DicomIndex::scan(corpus, dcmtk);
  expectSameRecords(fast, slow);
  // Either index loads each series to the same voxels or fails the same way.
  const auto a = fast.allSeries();
  const auto b = slow.allSeries();
  for (std::size_t s = 0; s < a.size() && s < b.size(); ++s) {
    std::string ea, eb;
    imaging::CtVolume va, vb;
    try {
      va = imaging::loadSeries(*a[s]).volume;
    } catch (const imaging::DicomError& e) {
      ea = e.what();
    }
    try {
      vb = imaging::loadSeries(*b[s]).volume;
    } catch (const imaging::DicomError& e) {
      eb = e.what();
    }
    EXPECT_EQ(ea, eb);
    EXPECT_TRUE(va.valuesHu() == vb.valuesHu()) << a[s]->label();
  }
}
