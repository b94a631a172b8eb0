// Every file of pydicom's real-world test corpus gives a volume or a specific DicomError: no crash, no hang.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "imaging/DicomError.h"
#include "imaging/DicomIndex.h"
#include "imaging/SeriesLoader.h"

namespace fs = std::filesystem;

namespace {
const char* kCorpus = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
}

TEST(PydicomCorpus, EveryFileGivesAVolumeOrADicomError) {
  if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "python3-pydicom test files are not installed";
  int volumes = 0, refused = 0;
  for (const auto& e : fs::recursive_directory_iterator(kCorpus)) {
    if (!e.is_regular_file()) continue;
    const auto start = std::chrono::steady_clock::now();
    std::string outcome;
    try {
      const auto loaded = imaging::loadSeries(e.path().string());
      ASSERT_FALSE(loaded.volume.empty()) << e.path();
      ++volumes;
      outcome = "volume " + std::to_string(loaded.volume.geometry().size[0]) + "x" +
                std::to_string(loaded.volume.geometry().size[1]) + "x" +
                std::to_string(loaded.volume.geometry().size[2]);
    } catch (const imaging::DicomError& err) {
      ++refused;
      outcome = err.what();
      EXPECT_FALSE(outcome.empty());
    } catch (const std::exception& err) {
      ADD_FAILURE() << e.path() << ": not a DicomError: " << err.what();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(s, 5.0) << e.path() << ": a hang guard (one file), not a speed target";
    if (std::getenv("MEDSEEK_SHOW_MESSAGES"))
      std::printf("%-40s %s\n", e.path().filename().c_str(), outcome.substr(0, 300).c_str());
  }
  EXPECT_GT(volumes, 5);
  EXPECT_GT(refused, 5);
}

TEST(PydicomCorpus, DicomdirIsIndexedByPatientStudyAndSeries) {
  const fs::path dicomdir = fs::path(kCorpus) / "dicomdirtests" / "DICOMDIR";
  if (!fs::exists(dicomdir)) GTEST_SKIP() << "python3-pydicom test files are not installed";
  const auto index = imaging::DicomIndex::scan(dicomdir.string());
  EXPECT_GE(index.patients.size(), 2u);
  EXPECT_GE(index.seriesCount(), 3u);
  EXPECT_GT(index.dicomFiles, 10u);
  for (const auto* s : index.allSeries()) EXPECT_FALSE(s->instances.empty());
}

TEST(PydicomCorpus, CorpusFolderIsScannedWithoutParsingNonDicomFiles) {
  if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "python3-pydicom test files are not installed";
  const auto index = imaging::DicomIndex::scan(kCorpus);
  EXPECT_GT(index.dicomFiles, 50u);
  EXPECT_GE(index.nonDicomFiles, 4u);  // README.txt, *.dump, *.json, zipMR.gz
  EXPECT_GT(index.filesPerSecond(), 0.0);
}
