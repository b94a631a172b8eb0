// Screening discovery (no model needed): which studies a folder holds, and where they live. The whole
// pipeline (model, database, resume, kill -9) is tested through the CLI in tests/cli/ScreenTest.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "imaging/CtSeriesWriter.h"
#include "workflow/Screening.h"

namespace fs = std::filesystem;

namespace {
void writeStudy(const fs::path& dir, const std::string& patient, const std::string& studyUid,
                const std::string& accession) {
  imaging::VolumeGeometry g;
  g.size = {16, 16, 12};
  imaging::CtSeriesMetadata m;
  m.patientId = patient;
  m.studyInstanceUid = studyUid;
  m.seriesInstanceUid = studyUid + ".1";
  m.accessionNumber = accession;
  imaging::writeCtSeries(imaging::CtVolume(g), m, dir.string());
}
}  // namespace

TEST(Screening, DiscoversEachStudyOnceWithItsFolderPatientAndAccession) {
  const fs::path root = fs::temp_directory_path() / ("medseek_screening_" + std::to_string(::getpid()));
  fs::remove_all(root);
  writeStudy(root / "b" / "CT", "P-B", "1.2.3.900.2", "ACC-B");
  writeStudy(root / "a" / "CT", "P-A", "1.2.3.900.1", "ACC-A");
  std::ofstream(root / "a" / "note.txt") << "62-year-old man";
  // Overlapping inputs must not duplicate a study.
  const auto found = workflow::discoverStudies({root.string(), (root / "a").string()});
  fs::remove_all(root);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].key, "1.2.3.900.1");
  EXPECT_EQ(fs::path(found[0].folder), (root / "a" / "CT").lexically_normal());
  EXPECT_EQ(found[0].patientId, "P-A");
  EXPECT_EQ(found[0].accession, "ACC-A");
  EXPECT_EQ(found[1].key, "1.2.3.900.2");
  EXPECT_TRUE(found[1].problems.empty());
}

TEST(Screening, MissingInputIsAUsageErrorNamingThePath) {
  try {
    workflow::discoverStudies({"/nonexistent/medseek/ldct"});
    FAIL() << "no exception";
  } catch (const workflow::ScreeningUsageError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/medseek/ldct"), std::string::npos) << e.what();
  }
}
