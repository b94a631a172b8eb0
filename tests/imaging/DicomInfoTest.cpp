#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "imaging/DicomError.h"
#include "imaging/DicomInfo.h"

TEST(DicomInfo, NamesTheMissingPathInTheError) {
  try {
    imaging::DicomInfo::scan("/nonexistent/medseek/path");
    FAIL() << "expected DicomError";
  } catch (const imaging::DicomError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/medseek/path"), std::string::npos);
  }
}

TEST(DicomInfo, CountsNonDicomFilesAndSkipsThem) {
  const auto dir = std::filesystem::temp_directory_path() / "medseek_info_nondicom";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "not a DICOM file";
  const auto info = imaging::DicomInfo::scan(dir.string());
  EXPECT_EQ(info.filesScanned, 1u);
  EXPECT_EQ(info.nonDicomFiles, 1u);
  EXPECT_TRUE(info.series.empty());
  std::filesystem::remove_all(dir);
}
