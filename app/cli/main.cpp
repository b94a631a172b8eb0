// medseek-cli: headless entry point. Exit codes: 0 success, 1 the job ran but reported failures,
// 2 usage or environment error, 3 input data error (bad DICOM, unreadable file), 4 internal error.
#include <iostream>

#include "Commands.h"
#include "app/Version.h"

namespace cli {
CLI::App* addBenchGroup(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmark programs (figures reported in README)");
  bench->require_subcommand(1);
  return bench;
}
}  // namespace cli

int main(int argc, char** argv) {
  CLI::App app{"MedSeek command line: chest-CT + clinical-note analysis (research use, not for clinical use)",
               "medseek-cli"};
  app.set_version_flag("--version", std::string("medseek-cli ") + app::kVersion);
  app.require_subcommand(1);
  cli::CliContext ctx;
  cli::addVersionCommand(app, ctx);
  CLI::App* bench = cli::addBenchGroup(app);
  (void)bench;
  // Registration of every subcommand (keep one line per command; each lives in its own file):
  cli::addModelCommands(app, *bench, ctx);
  cli::addEvaluateExplainCommand(app, ctx);
#ifndef MEDSEEK_TORCH_ONLY
#ifndef MEDSEEK_HEADLESS
  cli::addInfoCommand(app, ctx);
  cli::addConvertCommand(app, ctx);
  cli::addLoadBenchCommand(*bench, ctx);
#endif
  cli::addDiscoveryBenchCommand(*bench, ctx);
  cli::addPhantomCommand(app, *bench, ctx);
  cli::addAnalyzeCommand(app, ctx);
#ifndef MEDSEEK_HEADLESS
  cli::addReportCommand(app, ctx);
  cli::addSnapshotCommand(app, ctx);
#endif
  cli::addScreenCommand(app, *bench, ctx);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "medseek-cli: " << e.what() << " (see medseek-cli --help)\n";
    return 2;
  } catch (const cli::UsageError& e) {
    std::cerr << "medseek-cli: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "medseek-cli: error: " << e.what() << "\n";
    return 3;
  }
  return ctx.exitCode;
}
