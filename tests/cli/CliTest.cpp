// medseek-cli tested as a user runs it: exit codes, one-line reasons, real output.
#include <gtest/gtest.h>

#include <filesystem>

#include "Process.h"

namespace fs = std::filesystem;
using testsupport::quote;
using testsupport::run;

namespace {
std::string cli() { return quote(MEDSEEK_CLI_EXE); }
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
