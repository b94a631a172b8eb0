// medseek-cli bench load SERIES_DIR: our loader (discovery + validation + decode) against the ITK/GDCM
// series reader (the 3D Slicer path) on the same series, in one process. Ours runs first, so the peak RSS
// (VmHWM) read right after it is our own peak.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "Commands.h"
#include "imaging/CtSeriesWriter.h"
#include "imaging/SeriesLoader.h"
#include "imaging/VolumeIo.h"

namespace cli {
namespace {
struct LoadBenchArgs {
  std::string dir;
  int repeat = 5;
  int threads = 0;
  bool json = false;
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

double statusMb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(std::string(key).size())) / 1024.0;  // kB
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

void addLoadBenchCommand(CLI::App& bench, CliContext& ctx) {
  auto args = std::make_shared<LoadBenchArgs>();
  auto* cmd = bench.add_subcommand(
      "load", "Time our DICOM series loader against ITK's GDCM series reader (median of N)");
  cmd->add_option("series", args->dir, "Folder holding one CT series")->required();
  cmd->add_option("--repeat", args->repeat, "Runs of each loader (median reported)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--threads", args->threads, "Our decoder threads (0: all cores)");
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->add_flag("--no-itk", args->skipItk, "Time only our loader");
  cmd->add_option(
      "--generate", args->generate,
      "First write a synthetic 512x512xN series into the (empty or missing) folder with our writer");
  cmd->add_option("--transfer-syntax", args->syntax, "Transfer syntax of --generate")
      ->check(CLI::IsMember(imaging::transferSyntaxNames()));
  cmd->callback([&ctx, args] {
    if (args->generate > 0) {
      std::error_code ec;
      if (std::filesystem::exists(args->dir) && !std::filesystem::is_empty(args->dir, ec))
        throw UsageError("--generate needs an empty or missing folder: " + args->dir);
      generateSeries(args->dir, args->generate, imaging::transferSyntaxFromName(args->syntax));
    }
    const double baselineMb = statusMb("VmRSS:");
    imaging::LoadOptions options;
    options.threads = args->threads;
    std::vector<double> ours;
    std::size_t voxels = 0;
    std::array<int, 3> size{};
    long long ourSum = 0;
    for (int r = 0; r < args->repeat; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto loaded = imaging::loadSeries(args->dir, options);
      ours.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      voxels = loaded.volume.valuesHu().size();
      size = loaded.volume.geometry().size;
      if (r == 0)
        ourSum = std::accumulate(loaded.volume.valuesHu().begin(), loaded.volume.valuesHu().end(), 0LL);
    }
    const double peakMb = statusMb("VmHWM:");
    std::vector<double> itk;
    long long itkSum = 0;
    if (!args->skipItk) {
      for (int r = 0; r < args->repeat; ++r) {
        imaging::CtVolume check;
        const auto result = imaging::loadSeriesWithItk(args->dir, r == 0 ? &check : nullptr);
        itk.push_back(result.seconds);
        if (r == 0) itkSum = std::accumulate(check.valuesHu().begin(), check.valuesHu().end(), 0LL);
      }
    }
    const double voxelMb = static_cast<double>(voxels) * sizeof(int16_t) / (1024.0 * 1024.0);
    const double oursS = median(ours);
    const double itkS = itk.empty() ? 0.0 : median(itk);
    nlohmann::json j{
        {"series", args->dir},
        {"size", size},
        {"repeat", args->repeat},
        {"ours_s", oursS},
        {"itk_s", itkS},
        {"ratio", oursS > 0 && itkS > 0 ? itkS / oursS : 0.0},
        {"peak_rss_mb", peakMb},
        {"baseline_rss_mb", baselineMb},
        {"voxel_mb", voxelMb},
        {"peak_over_voxels", voxelMb > 0 ? peakMb / voxelMb : 0.0},
        {"same_voxel_sum", itk.empty() ? nlohmann::json(nullptr) : nlohmann::json(ourSum == itkSum)}};
    if (args->json) {
      std::cout << j.dump() << "\n";
    } else {
      std::printf("series %s: %dx%dx%d, %.1f MB of voxels\n", args->dir.c_str(), size[0], size[1], size[2],
                  voxelMb);
      std::printf("ours  %.4f s (median of %d)\n", oursS, args->repeat);
      if (!itk.empty())
        std::printf("itk   %.4f s  -> ours is %.1fx faster; same voxels: %s\n", itkS, itkS / oursS,
                    ourSum == itkSum ? "yes" : "NO");
      std::printf("peak RSS after ours %.1f MB (process baseline %.1f MB) = %.2fx voxel bytes\n", peakMb,
                  baselineMb, peakMb / voxelMb);
    }
    ctx.exitCode = 0;
  });
}
}  // namespace cli
