#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "TestVolumes.h"
#include "imaging/CtSeriesWriter.h"
#include "imaging/DicomError.h"

namespace {
std::string runAndCapture(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  return out;
}

bool haveDciodvfy() {
  return std::system("command -v dciodvfy >/dev/null 2>&1") == 0;
}

std::string errorsOf(const std::string& report) {
  std::string errors, line;
  for (char c : report) {
    if (c != '\n') {
      line += c;
      continue;
    }
    if (line.find("Error") != std::string::npos) errors += line + "\n";
    line.clear();
  }
  return errors;
}
}  // namespace

TEST(CtSeriesWriter, WritesOneFilePerSliceInSliceOrder) {
  testvol::TempDir dir("writer_files");
  const auto volume = testvol::makeVolume(32, 32, 7);
  const auto files = imaging::writeCtSeries(volume, testvol::makeMeta(), dir.str());
  ASSERT_EQ(files.size(), 7u);
  for (const auto& f : files) EXPECT_TRUE(std::filesystem::exists(f)) << f;
  EXPECT_LT(files.front(), files.back());
}

TEST(CtSeriesWriter, RefusesAnEmptyVolume) {
  testvol::TempDir dir("writer_empty");
  EXPECT_THROW(imaging::writeCtSeries(imaging::CtVolume{}, testvol::makeMeta(), dir.str()),
               imaging::DicomError);
}

class WrittenFileIsValid : public ::testing::TestWithParam<imaging::TransferSyntax> {};

TEST_P(WrittenFileIsValid, DciodvfyReportsNoErrors) {
  if (!haveDciodvfy()) GTEST_SKIP() << "dciodvfy (dicom3tools) is not installed";
  testvol::TempDir dir("writer_dciodvfy");
  imaging::CtSeriesWriteOptions options;
  options.transferSyntax = GetParam();
  auto meta = testvol::makeMeta();
  meta.additionalPatientHistory = "62岁女性，既往吸烟";  // UTF-8 text: needs SpecificCharacterSet
  const auto files = imaging::writeCtSeries(testvol::makeVolume(32, 32, 3), meta, dir.str(), options);
  std::string file = files[1];
  if (GetParam() == imaging::TransferSyntax::DeflatedExplicitVrLittleEndian) {
    // dicom3tools cannot inflate; validate the same dataset re-encoded by DCMTK's dcmconv.
    if (std::system("command -v dcmconv >/dev/null 2>&1") != 0) GTEST_SKIP() << "dcmconv missing";
    file = (dir.path() / "inflated.dcm").string();
    ASSERT_EQ(std::system(("dcmconv +te '" + files[1] + "' '" + file + "'").c_str()), 0);
  }
  const std::string report = runAndCapture("dciodvfy -new '" + file + "'");
  if (std::getenv("MEDSEEK_SHOW_DCIODVFY")) std::printf("%s\n", report.c_str());
  EXPECT_EQ(errorsOf(report), "") << report;
}

INSTANTIATE_TEST_SUITE_P(EveryTransferSyntax, WrittenFileIsValid,
                         ::testing::ValuesIn(testvol::everyTransferSyntax()));
