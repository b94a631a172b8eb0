// medseek-loadbench SERIES_DIR: times our loader (discovery + validation + decode, imaging::loadSeries) in
// a process that maps the imaging library and DCMTK only, and reports its peak RSS (VmHWM): the process
// baseline read before the first load plus what loading added. `medseek-cli bench load` runs it first,
// then times ITK itself. Exit codes as medseek-cli: 0 success, 2 usage, 3 input data error.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "LoadBench.h"
#include "imaging/SeriesLoader.h"

namespace {

/// A value of /proc/self/status in MB (the file gives kB); 0 when absent.
double statusMb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(std::string(key).size())) / 1024.0;
  return 0;
}

nlohmann::json timeOurLoader(const cli::BenchRunArgs& args) {
  const double baselineMb = statusMb("VmRSS:");
  imaging::LoadOptions options;
  options.threads = args.threads;
  std::vector<double> runs, cpu;
  std::size_t voxels = 0;
  std::array<int, 3> size{};
  long long sum = 0;
  for (int r = 0; r < args.repeat; ++r) {
    if (args.cold) cli::evictFromPageCache(args.dir);
    const double c0 = cli::processCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    const auto loaded = imaging::loadSeries(args.dir, options);
    runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(cli::processCpuSeconds() - c0);
    if (r == 0) {
      voxels = loaded.volume.valuesHu().size();
      size = loaded.volume.geometry().size;
      sum = std::accumulate(loaded.volume.valuesHu().begin(), loaded.volume.valuesHu().end(), 0LL);
    }
  }
  const double peakMb = statusMb("VmHWM:");
  const double voxelMb = static_cast<double>(voxels) * sizeof(int16_t) / (1024.0 * 1024.0);
  return {{"series", args.dir},
          {"size", size},
          {"repeat", args.repeat},
          {"threads", args.threads},
          {"cold", args.cold},
          {"ours_s", cli::medianOf(runs)},
          {"ours_first_s", runs.front()},
          {"ours_runs_s", runs},
          {"ours_cpu_s", cli::medianOf(cpu)},
          {"process", "medseek-loadbench"},
          {"peak_rss_mb", peakMb},
          {"baseline_rss_mb", baselineMb},
          {"load_rss_mb", peakMb - baselineMb},
          {"voxel_mb", voxelMb},
          {"peak_over_voxels", voxelMb > 0 ? peakMb / voxelMb : 0.0},
          {"load_over_voxels", voxelMb > 0 ? (peakMb - baselineMb) / voxelMb : 0.0},
          {"voxel_sum", sum}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times our DICOM series loader (median of N) and reports the process's peak RSS",
               "medseek-loadbench"};
  cli::BenchRunArgs args;
  cli::addBenchRunOptions(app, args, "Folder holding one CT series");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "medseek-loadbench: " << e.what() << " (see medseek-loadbench --help)\n";
    return 2;
  }
  try {
    const auto j = timeOurLoader(args);
    if (args.json) {
      std::cout << j.dump() << "\n";
    } else {
      const auto& s = j["size"];
      std::printf("series %s: %dx%dx%d, %.1f MB of voxels\n", args.dir.c_str(), s[0].get<int>(),
                  s[1].get<int>(), s[2].get<int>(), j["voxel_mb"].get<double>());
      std::printf("ours %.4f s (median of %d; first run %.4f s; CPU %.4f s)\n", j["ours_s"].get<double>(),
                  args.repeat, j["ours_first_s"].get<double>(), j["ours_cpu_s"].get<double>());
      std::printf(
          "peak RSS %.1f MB = %.2fx voxel bytes (baseline before loading %.1f MB; loading added %.2fx)\n",
          j["peak_rss_mb"].get<double>(), j["peak_over_voxels"].get<double>(),
          j["baseline_rss_mb"].get<double>(), j["load_over_voxels"].get<double>());
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "medseek-loadbench: error: " << e.what() << "\n";
    return 3;
  }
}
