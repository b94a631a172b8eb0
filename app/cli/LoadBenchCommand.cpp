// medseek-cli bench load SERIES_DIR: our loader against the ITK/GDCM series reader (the 3D Slicer path) on
// the same series. Ours runs first, in the medseek-loadbench child (LoadBench.h says why); then this
// process times ITK and prints both, their ratio and our loader's peak RSS.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "Commands.h"
#include "LoadBench.h"
#include "imaging/CtSeriesWriter.h"
#include "imaging/VolumeIo.h"

extern char** environ;

namespace cli {
namespace {

struct BenchLoadArgs {
  BenchRunArgs loader;
  bool skipItk = false;
  int generate = 0;
  std::string syntax = "explicit-le";
};

/// A 512x512xN chest-like synthetic series (body ellipse, lungs, noise-like texture), written with our
/// writer.
void generateSeries(const std::string& dir, int slices, imaging::TransferSyntax syntax) {
  imaging::VolumeGeometry g;
  g.size = {512, 512, slices};
  g.spacingMm = {0.7, 0.7, 1.0};
  g.originLps = {-179.2, -179.2, -300.0};
  imaging::CtVolume v(g);
  std::uint32_t state = 12345;
  for (int k = 0; k < slices; ++k)
    for (int j = 0; j < 512; ++j)
      for (int i = 0; i < 512; ++i) {
        const double x = (i - 256) / 230.0, y = (j - 256) / 170.0;
        state = state * 1664525u + 1013904223u;
        const int noise = static_cast<int>((state >> 24) % 41) - 20;
        int hu = -1024;
        if (x * x + y * y < 1.0) hu = 40 + noise;
        const double lx = std::fabs(x) - 0.45, ly = y / 0.8;
        if (lx * lx / 0.09 + ly * ly < 0.6) hu = -860 + noise;
        v.at(i, j, k) = static_cast<int16_t>(hu);
      }
  imaging::CtSeriesMetadata meta;
  meta.patientId = "BENCH-0001";
  meta.patientName = "BENCH^SYNTHETIC";
  meta.patientSex = "O";
  meta.seriesDescription = "Synthetic chest 1mm";
  imaging::CtSeriesWriteOptions options;
  options.transferSyntax = syntax;
  imaging::writeCtSeries(v, meta, dir, options);
}

double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double v = 0;
  in >> v;
  return v;
}

/// Runs medseek-loadbench (beside this executable) with `args` and returns what it printed (its JSON).
std::string runLoaderChild(const BenchRunArgs& args) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string helper = (self.parent_path() / "medseek-loadbench").string();
  if (ec || ::access(helper.c_str(), X_OK) != 0)
    throw UsageError("bench load needs medseek-loadbench beside medseek-cli (" + helper + " not found)");
  std::vector<std::string> argv{helper};
  const auto rest = loaderBenchArguments(args);
  argv.insert(argv.end(), rest.begin(), rest.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) throw UsageError(std::string("bench load: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, helper.c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::string out;
  if (rc == 0) {
    std::array<char, 4096> buf;
    for (ssize_t n; (n = ::read(fds[0], buf.data(), buf.size())) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  ::close(fds[0]);
  if (rc != 0) throw UsageError("cannot run " + helper + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (code == 2) throw UsageError("medseek-loadbench refused the arguments (its message is above)");
  if (code != 0)
    throw std::runtime_error("medseek-loadbench failed (exit code " + std::to_string(code) +
                             "; its message is above)");
  return out;
}

}  // namespace

void addLoadBenchCommand(CLI::App& bench, CliContext& ctx) {
  auto args = std::make_shared<BenchLoadArgs>();
  auto* cmd = bench.add_subcommand(
      "load", "Time our DICOM series loader against ITK's GDCM series reader (median of N)");
  addBenchRunOptions(*cmd, args->loader, "Folder holding one CT series");
  cmd->add_flag("--no-itk", args->skipItk, "Time only our loader");
  cmd->add_option(
         "--generate", args->generate,
         "First write a synthetic 512x512xN series into the (empty or missing) folder with our writer")
      ->check(CLI::Range(0, 4000));
  cmd->add_option("--transfer-syntax", args->syntax, "Transfer syntax of --generate")
      ->check(CLI::IsMember(imaging::transferSyntaxNames()));
  cmd->callback([&ctx, args] {
    const std::string& dir = args->loader.dir;
    if (args->generate > 0) {
      std::error_code ec;
      if (std::filesystem::exists(dir) && !std::filesystem::is_empty(dir, ec))
        throw UsageError("--generate needs an empty or missing folder: " + dir);
      generateSeries(dir, args->generate, imaging::transferSyntaxFromName(args->syntax));
    }
    BenchRunArgs childArgs = args->loader;
    childArgs.json = true;
    nlohmann::json j = nlohmann::json::parse(runLoaderChild(childArgs));
    std::vector<double> itk, itkCpu;
    long long itkSum = 0;
    if (!args->skipItk) {
      for (int r = 0; r < args->loader.repeat; ++r) {
        if (args->loader.cold) evictFromPageCache(dir);
        imaging::CtVolume check;
        const double c0 = processCpuSeconds();
        const auto result = imaging::loadSeriesWithItk(dir, r == 0 ? &check : nullptr);
        itkCpu.push_back(processCpuSeconds() - c0);  // run 0 includes copying the check volume
        itk.push_back(result.seconds);
        if (r == 0) itkSum = std::accumulate(check.valuesHu().begin(), check.valuesHu().end(), 0LL);
      }
    }
    const double oursS = j["ours_s"].get<double>();
    const double itkS = medianOf(itk);
    j["itk_s"] = itkS;
    j["itk_first_s"] = itk.empty() ? 0.0 : itk.front();
    j["itk_runs_s"] = itk;
    j["ratio"] = oursS > 0 && itkS > 0 ? itkS / oursS : 0.0;
    j["itk_cpu_s"] = medianOf(itkCpu);
    const double oursCpu = j["ours_cpu_s"].get<double>();
    j["cpu_ratio"] = oursCpu > 0 && !itkCpu.empty() ? medianOf(itkCpu) / oursCpu : 0.0;
    j["same_voxel_sum"] = itk.empty() ? nlohmann::json(nullptr) : nlohmann::json(j["voxel_sum"] == itkSum);
    j["generated"] = args->generate > 0;
    if (args->generate > 0) j["transfer_syntax"] = args->syntax;
    j["load_average_1min"] = loadAverage();
    if (args->loader.json) {
      std::cout << j.dump() << "\n";
    } else {
      const auto& s = j["size"];
      std::printf(
          "series %s: %dx%dx%d, %.1f MB of voxels%s\n", dir.c_str(), s[0].get<int>(), s[1].get<int>(),
          s[2].get<int>(), j["voxel_mb"].get<double>(),
          args->loader.cold ? " (cold: file contents dropped from the page cache before every run)" : "");
      std::printf("ours  %.4f s (median of %d; first run %.4f s; CPU %.4f s)\n", oursS, args->loader.repeat,
                  j["ours_first_s"].get<double>(), oursCpu);
      if (!itk.empty())
        std::printf(
            "itk   %.4f s (first run %.4f s; CPU %.4f s) -> ours is %.1fx faster (%.1fx less CPU); "
            "same voxels: %s\n",
            itkS, itk.front(), j["itk_cpu_s"].get<double>(), itkS / oursS, j["cpu_ratio"].get<double>(),
            j["same_voxel_sum"].get<bool>() ? "yes" : "NO");
      std::printf("peak RSS of our loader's process (medseek-loadbench): %.1f MB = %.2fx voxel bytes\n",
                  j["peak_rss_mb"].get<double>(), j["peak_over_voxels"].get<double>());
      std::printf("  = baseline before loading %.1f MB + loading %.1f MB (%.2fx voxel bytes)\n",
                  j["baseline_rss_mb"].get<double>(), j["load_rss_mb"].get<double>(),
                  j["load_over_voxels"].get<double>());
      std::printf("load average (1 min) %.2f\n", j["load_average_1min"].get<double>());
    }
    ctx.exitCode = 0;
  });
}

}  // namespace cli
