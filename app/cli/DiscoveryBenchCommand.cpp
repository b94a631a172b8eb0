// medseek-cli bench discover FOLDER: discovery speed (imaging::DicomIndex::scan: folder walk, sniff,
// header parse up to PixelData, grouping) in files per second, median of N runs.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.h"
#include "LoadBench.h"
#include "imaging/CtSeriesWriter.h"
#include "imaging/DicomIndex.h"

namespace cli {
namespace {

struct DiscoveryBenchArgs {
  BenchRunArgs run;
  int generateStudies = 0;
  int slices = 300;
  int matrix = 128;
};

/// `studies` studies of one CT series each (own patient, study and series UIDs), `slices` files of
/// matrix x matrix each, written with our writer into dir/study_NNN.
void generateStudies(const DiscoveryBenchArgs& a) {
  imaging::VolumeGeometry g;
  g.size = {a.matrix, a.matrix, a.slices};
  g.spacingMm = {350.0 / a.matrix, 350.0 / a.matrix, 1.0};
  g.originLps = {-175.0, -175.0, -300.0};
  const imaging::CtVolume volume(g, 40);
  for (int s = 0; s < a.generateStudies; ++s) {
    char name[32];
    std::snprintf(name, sizeof name, "study_%03d", s + 1);
    imaging::CtSeriesMetadata meta;
    meta.patientId = std::string("DISC-") + std::to_string(s + 1);
    meta.patientName = "DISCOVERY^" + std::to_string(s + 1);
    meta.patientSex = "O";
    imaging::writeCtSeries(volume, meta, (std::filesystem::path(a.run.dir) / name).string());
  }
}

}  // namespace

void addDiscoveryBenchCommand(CLI::App& bench, CliContext& ctx) {
  auto args = std::make_shared<DiscoveryBenchArgs>();
  auto* cmd =
      bench.add_subcommand("discover", "Time DICOM discovery of a folder tree (files/s, median of N)");
  args->run.repeat = 3;
  addBenchRunOptions(*cmd, args->run, "Folder to scan (recursively)");
  cmd->add_option("--generate-studies", args->generateStudies,
                  "First write N single-series studies into the (empty or missing) folder with our writer")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--slices", args->slices, "Files per generated series")->check(CLI::Range(1, 4000));
  cmd->add_option("--matrix", args->matrix, "Rows = columns of the generated slices")
      ->check(CLI::Range(16, 1024));
  cmd->callback([&ctx, args] {
    const BenchRunArgs& run = args->run;
    if (args->generateStudies > 0) {
      std::error_code ec;
      if (std::filesystem::exists(run.dir) && !std::filesystem::is_empty(run.dir, ec))
        throw UsageError("--generate-studies needs an empty or missing folder: " + run.dir);
      generateStudies(*args);
    }
    imaging::ScanOptions options;
    options.threads = run.threads;
    std::vector<double> runs;
    imaging::DicomIndex index;
    for (int r = 0; r < run.repeat; ++r) {
      if (run.cold) evictFromPageCache(run.dir);
      const auto t0 = std::chrono::steady_clock::now();
      index = imaging::DicomIndex::scan(run.dir, options);
      runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::size_t studies = 0;
    for (const auto& p : index.patients) studies += p.studies.size();
    const double s = medianOf(runs);
    const nlohmann::json j{{"folder", run.dir},
                           {"repeat", run.repeat},
                           {"threads", run.threads},
                           {"cold", run.cold},
                           {"files", index.filesScanned},
                           {"dicom_files", index.dicomFiles},
                           {"patients", index.patients.size()},
                           {"studies", studies},
                           {"series", index.seriesCount()},
                           {"problems", index.problems.size()},
                           {"seconds", s},
                           {"first_s", runs.front()},
                           {"runs_s", runs},
                           {"files_per_s", s > 0 ? static_cast<double>(index.filesScanned) / s : 0.0}};
    if (run.json) {
      std::cout << j.dump() << "\n";
    } else {
      std::printf("%s: %zu files (%zu DICOM), %zu patients, %zu studies, %zu series%s\n", run.dir.c_str(),
                  index.filesScanned, index.dicomFiles, index.patients.size(), studies, index.seriesCount(),
                  run.cold ? " (cold: file contents dropped from the page cache before every run)" : "");
      std::printf("discovery %.4f s (median of %d; first run %.4f s) = %.0f files/s\n", s, run.repeat,
                  runs.front(), j["files_per_s"].get<double>());
    }
    ctx.exitCode = 0;
  });
}

}  // namespace cli
