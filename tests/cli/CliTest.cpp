// medseek-cli tested as a user runs it: exit codes, one-line reasons, real output (benches on tiny data).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "Process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using testsupport::quote;
using testsupport::run;

namespace {
std::string cli() {
  return quote(MEDSEEK_CLI_EXE);
}

/// A fresh, missing folder under the temp directory, removed at the end of the test.
struct FreshFolder {
  fs::path path;
  explicit FreshFolder(const std::string& name)
      : path(fs::temp_directory_path() / ("medseek_bench_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~FreshFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// The last line of the output, parsed as JSON.
json lastLineJson(const std::string& output) {
  std::string s = output;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return json::parse(s.substr(s.find_last_of('\n') + 1));
}
}  // namespace

TEST(Cli, VersionFlagAndCommandPrintTheVersion) {
  auto r = run(cli() + " --version");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.output.find("medseek-cli 0."), std::string::npos) << r.output;
  r = run(cli() + " version");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.output.find("libtorch"), std::string::npos) << r.output;
}

TEST(Cli, HelpListsTheSubcommands) {
  const auto r = run(cli() + " --help");
  EXPECT_EQ(r.exitCode, 0);
  for (const char* sub : {"version", "info", "phantom", "bench"})
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub << " missing in\n" << r.output;
}

TEST(Cli, UnknownSubcommandIsAUsageErrorWithExitCode2) {
  const auto r = run(cli() + " frobnicate");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.output.find("medseek-cli"), std::string::npos);
}

TEST(Cli, InfoOnAMissingPathNamesThePathAndExitsNonZero) {
  const auto r = run(cli() + " info /nonexistent/medseek/study");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_NE(r.output.find("/nonexistent/medseek/study"), std::string::npos) << r.output;
  // one line reason
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

// DCMTK unpacked outside /usr (as on the GPU machine) finds no data dictionary: one clear line that names
// where it looked and what to set, not a failure on the first tag of the first file.
TEST(Cli, MissingDcmtkDictionaryIsNamedWithTheVariableToSet) {
  FreshFolder out("nodict");
  const auto r = run("DCMDICTPATH=/nonexistent/medseek/dicom.dic " + cli() + " phantom --cases 1 --size small --seed 3 --out " +
                     quote(out.path.string()));
  EXPECT_NE(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("data dictionary is not loaded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("DCMDICTPATH=/nonexistent/medseek/dicom.dic"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(BenchLoad, ReportsBothLoadersTheRatioAndThePeakOfTheSmallLoaderProcess) {
  FreshFolder dir("load");
  const auto r = run(cli() + " bench load " + quote(dir.path.string()) + " --generate 3 --repeat 1 --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json j = lastLineJson(r.output);
  for (const char* key : {"ours_s", "itk_s", "ratio", "peak_rss_mb", "baseline_rss_mb", "load_rss_mb",
                          "voxel_mb", "ours_first_s", "itk_first_s"})
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << r.output;
  EXPECT_EQ(j["process"], "medseek-loadbench");
  EXPECT_EQ(j["same_voxel_sum"], true);
  EXPECT_EQ(j["size"], json::array({512, 512, 3}));
  EXPECT_GT(j["ours_s"].get<double>(), 0);
  EXPECT_GT(j["itk_s"].get<double>(), 0);
  // The loader's process does not map LibTorch or Qt: its baseline is far below medseek-cli's ~170 MB.
  EXPECT_LT(j["baseline_rss_mb"].get<double>(), 60.0) << r.output;
  EXPECT_GE(j["peak_rss_mb"].get<double>(), j["baseline_rss_mb"].get<double>());
}

TEST(BenchLoad, RefusesToGenerateIntoAFolderThatHoldsFiles) {
  const auto r = run(cli() + " bench load " + quote(fs::path(MEDSEEK_CLI_EXE).parent_path().string()) +
                     " --generate 2 --json");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("--generate needs an empty or missing folder"), std::string::npos) << r.output;
}

TEST(BenchDiscover, CountsTheGeneratedStudiesAndReportsFilesPerSecond) {
  FreshFolder dir("discover");
  const auto r = run(cli() + " bench discover " + quote(dir.path.string()) +
                     " --generate-studies 2 --slices 3 --matrix 16 --repeat 1 --json");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json j = lastLineJson(r.output);
  EXPECT_EQ(j["files"], 6);
  EXPECT_EQ(j["studies"], 2);
  EXPECT_EQ(j["series"], 2);
  EXPECT_GT(j["files_per_s"].get<double>(), 0);
}

// evaluate-explain --json is read by scripts: it is valid JSON also where a figure has no cases behind it
// (no sanity cases: those figures are null, not NaN), and the figures that have cases are numbers.
TEST(EvaluateExplain, JsonHoldsNullWhereAFigureHasNoCases) {
  const auto r = run(cli() + " evaluate-explain --generate 1 --seed 9002 --device cpu --sanity-cases 0 --json 2>/dev/null");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  json j;
  ASSERT_NO_THROW(j = json::parse(r.output)) << r.output;
  EXPECT_EQ(j["cases"], 1);
  EXPECT_EQ(j["sanity_cases"], 0);
  EXPECT_TRUE(j["randomised_weights_cam_spearman_mean"].is_null()) << j.dump();
  EXPECT_TRUE(j["randomised_weights_cam_spearman_max"].is_null()) << j.dump();
  EXPECT_TRUE(j["nodule_removal_score_drop_mean"].is_null()) << j.dump();
  EXPECT_TRUE(j["pointing_game_inside_nodule_pct"].is_number()) << j.dump();
  EXPECT_GT(j["gradcam_over_forward"].get<double>(), 0.0);
}
