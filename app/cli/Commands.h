#pragma once
/// Each medseek-cli subcommand registers itself on the CLI11 app (one file per command) and reports
/// its exit code through `CliContext::exitCode`. Errors are thrown and turned into one line + exit code
/// by main: UsageError -> 2, any other exception -> 3.
#include <CLI/CLI.hpp>
#include <stdexcept>

namespace cli {
struct CliContext {
  int exitCode = 0;
};

/// Thrown for bad usage or environment problems (exit code 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void addVersionCommand(CLI::App& app, CliContext& ctx);
/// `bench` groups the benchmark programs; each library's benchmark adds a nested subcommand.
CLI::App* addBenchGroup(CLI::App& app);

// Commands that need LibTorch alone (also built on the GPU machine):
void addModelCommands(CLI::App& app, CLI::App& bench, CliContext& ctx);  // train, evaluate, bench model
void addEvaluateExplainCommand(CLI::App& app, CliContext& ctx);             // evaluate-explain

#ifndef MEDSEEK_TORCH_ONLY
}  // namespace cli
namespace workflow {
struct AnalysisOptions;
}
namespace cli {
/// The options every command that runs the model on a study shares (--note, --weights, --device, --lang,
/// --threads), bound straight into `o` (AnalyzeCommand.cpp). `langHelp` says what the language is for.
void addAnalysisOptions(CLI::App* c, workflow::AnalysisOptions& o, const std::string& langHelp);

// Commands that need DICOM (imaging, DCMTK), also in the headless build (MEDSEEK_HEADLESS):
void addPhantomCommand(CLI::App& app, CLI::App& bench, CliContext& ctx);  // phantom, bench phantom
void addDiscoveryBenchCommand(CLI::App& bench, CliContext& ctx);         // bench discover
void addAnalyzeCommand(CLI::App& app, CliContext& ctx);                  // analyze
void addScreenCommand(CLI::App& app, CLI::App& bench, CliContext& ctx);  // screen, bench screen
#ifndef MEDSEEK_HEADLESS
// Commands that need ITK, OpenCV, VTK or Qt (full build only):
void addInfoCommand(CLI::App& app, CliContext& ctx);
void addSnapshotCommand(CLI::App& app, CliContext& ctx);
void addConvertCommand(CLI::App& app, CliContext& ctx);
void addLoadBenchCommand(CLI::App& bench, CliContext& ctx);              // bench load
void addReportCommand(CLI::App& app, CliContext& ctx);                   // report
#endif
#endif
}  // namespace cli
