#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "imaging/CtSeriesWriter.h"
#include "imaging/DicomError.h"
#include "workflow/StudyInfo.h"

namespace fs = std::filesystem;

TEST(StudyInfo, MissingPathIsAnImagingError) {
  EXPECT_THROW(workflow::describePath("/nonexistent/medseek"), imaging::DicomError);
}

TEST(StudyInfo, ListsTheSelectedSeriesAndWhyTheOthersAreExcluded) {
  const fs::path dir = fs::temp_directory_path() / ("medseek_studyinfo_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  imaging::VolumeGeometry g;
  g.size = {16, 16, 20};
  imaging::CtSeriesMetadata chest;
  chest.patientId = "P-INFO";
  chest.seriesInstanceUid = "1.2.3.77.1";
  imaging::writeCtSeries(imaging::CtVolume(g), chest, (dir / "chest").string());
  g.size = {16, 16, 2};
  imaging::CtSeriesMetadata few = chest;
  few.seriesInstanceUid = "1.2.3.77.2";
  few.seriesDescription = "Key images";
  few.seriesNumber = 9;
  imaging::writeCtSeries(imaging::CtVolume(g), few, (dir / "key").string());
  const std::string text = workflow::describePath(dir.string());
  const auto series = workflow::listSeries(dir.string());
  fs::remove_all(dir);
  ASSERT_EQ(series.size(), 2u);
  for (const auto& s : series) {  // what the GUI's study browser shows in its header
    EXPECT_EQ(s.patientId, "P-INFO");
    EXPECT_EQ(s.studyDate.size(), 8u) << s.studyDate;
    EXPECT_EQ(s.studyDescription, "LDCT LUNG SCREENING");
  }
  EXPECT_TRUE(series[0].selected != series[1].selected);
  EXPECT_NE(text.find("Patient P-INFO"), std::string::npos) << text;
  EXPECT_NE(text.find("SELECTED"), std::string::npos) << text;
  EXPECT_NE(text.find("excluded: only 2 image(s)"), std::string::npos) << text;
  EXPECT_NE(text.find("kernel B30f"), std::string::npos) << text;
}
