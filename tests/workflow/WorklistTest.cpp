#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "workflow/Worklist.h"

namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("medseek_worklist_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
}  // namespace

TEST(Worklist, ReadsTheRowsOfAScreeningOutputFolderAndResolvesResultPaths) {
  const fs::path dir = scratch("good");
  std::ofstream(dir / "worklist.json") << R"([
 {"rank": 1, "study_uid": "1.2.3", "patient_id": "P1", "accession": "A1", "status": "analysed",
  "reason": null, "probability": 0.91, "lung_rads": "4B", "brock_probability": 0.4,
  "top_finding": {"lobe": "RUL", "diameter_mm": 14.2, "type": "solid"}, "image_only": false,
  "note_source": "note.txt", "result": "studies/1.2.3/result.json", "study_path": "/data/s1",
  "series_uid": "1.2.3.4"},
 {"rank": 2, "study_uid": "1.2.9", "patient_id": "P2", "accession": null, "status": "failed",
  "reason": "series 1: slice missing", "probability": null, "lung_rads": null, "brock_probability": null,
  "top_finding": null, "image_only": null, "note_source": null, "result": null, "study_path": "/data/s2",
  "series_uid": null}
])";
  const auto rows = workflow::readWorklist(dir.string());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].rank, 1);
  EXPECT_EQ(rows[0].patientId, "P1");
  EXPECT_DOUBLE_EQ(*rows[0].probability, 0.91);
  EXPECT_EQ(rows[0].lungRads, "4B");
  ASSERT_TRUE(rows[0].topFinding);
  EXPECT_EQ(rows[0].topFinding->lobe, "RUL");
  EXPECT_DOUBLE_EQ(*rows[0].topFinding->diameterMm, 14.2);
  EXPECT_EQ(fs::path(rows[0].resultPath), fs::absolute(dir / "studies/1.2.3/result.json").lexically_normal());
  EXPECT_EQ(rows[0].seriesUid, "1.2.3.4");
  EXPECT_EQ(rows[1].status, "failed");
  EXPECT_EQ(rows[1].reason, "series 1: slice missing");
  EXPECT_FALSE(rows[1].probability);
  EXPECT_FALSE(rows[1].topFinding);
  EXPECT_TRUE(rows[1].resultPath.empty());
  // The file itself is accepted too.
  EXPECT_EQ(workflow::readWorklist((dir / "worklist.json").string()).size(), 2u);
  fs::remove_all(dir);
}

TEST(Worklist, MalformedFilesAreRefusedWithTheFileAndTheProblemNamed) {
  const fs::path dir = scratch("bad");
  const fs::path file = dir / "worklist.json";
  auto expectError = [&](const std::string& content, const std::string& problem) {
    std::ofstream(file) << content;
    try {
      workflow::readWorklist(file.string());
      ADD_FAILURE() << "no error for " << content;
    } catch (const workflow::WorklistError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file.string()), std::string::npos) << what;
      EXPECT_NE(what.find(problem), std::string::npos) << what;
    }
  };
  expectError("[{\"rank\": 1,", "not valid JSON");
  expectError("{\"rank\": 1}", "expected a JSON array");
  expectError("[{\"study_uid\": \"1\", \"status\": \"analysed\"}]", "entry 1: no integer \"rank\"");
  expectError("[{\"rank\": 1, \"study_uid\": \"1\", \"status\": \"analysed\", \"probability\": \"high\"}]",
              "\"probability\" is not a number");
  fs::remove_all(dir);
  try {
    workflow::readWorklist(dir.string());
    ADD_FAILURE() << "no error for a missing folder";
  } catch (const workflow::WorklistError& e) {
    EXPECT_NE(std::string(e.what()).find("worklist.json"), std::string::npos) << e.what();
  }
}
