#pragma once
/// The series-load benchmark (`medseek-cli bench load`): our loader against ITK's GDCM series reader on
/// the same series, in one run. Our loader runs first, in `medseek-loadbench`, a child process that maps
/// the imaging library and DCMTK only (no LibTorch, Qt, ITK or OpenCV), so its peak RSS says what loading
/// costs and not what medseek-cli maps (~170 MB before any load). medseek-cli then times the ITK reader
/// itself and merges both into one report.
///
///   medseek-cli bench load /tmp/bl --generate 300 --repeat 5 --json
///   medseek-loadbench /tmp/bl --repeat 5          # our loader alone
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

/// What every timing bench takes (`bench load`, `bench discover`); medseek-loadbench takes exactly this.
struct BenchRunArgs {
  std::string dir;
  int repeat = 5;
  int threads = 0;
  bool cold = false;
  bool json = false;
};

/// Declares the options of BenchRunArgs on `cmd`; `folderHelp` describes the positional folder.
void addBenchRunOptions(CLI::App& cmd, BenchRunArgs& args, const std::string& folderHelp);

/// medseek-loadbench's command line for `args` (without the program name).
std::vector<std::string> loaderBenchArguments(const BenchRunArgs& args);

/// Drops the contents of every file under `dir` from the page cache (written back first). Directory
/// entries and inodes stay cached: "cold" means the header and pixel bytes come from the disk.
void evictFromPageCache(const std::string& dir);

/// User + system CPU seconds of this process so far (all threads). Unlike wall time, the difference
/// around a run does not grow when other programs share the cores.
double processCpuSeconds();

/// Median of the values (0 when empty).
double medianOf(std::vector<double> values);

}  // namespace cli
