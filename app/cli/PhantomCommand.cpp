// medseek-cli phantom: writes a synthetic cohort (DICOM + note + FHIR + truth per study).
// medseek-cli bench phantom: generation speed of the cohort generator.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "Commands.h"
#include "phantom/CohortStatistics.h"
#include "phantom/PhantomBenchmark.h"
#include "workflow/CohortWriter.h"

namespace cli {
namespace {
const std::map<std::string, phantom::SizePreset> kSizes{{"small", phantom::SizePreset::Small},
                                                         {"full", phantom::SizePreset::Full}};
const std::map<std::string, phantom::LanguageMix> kLanguages{{"en", phantom::LanguageMix::English},
                                                              {"zh", phantom::LanguageMix::Chinese},
                                                              {"mixed", phantom::LanguageMix::Mixed}};

struct PhantomArgs {
  int cases = 1;
  std::string out;
  std::uint64_t seed = 1;
  std::string size = "small", lang = "en", syntax = "explicit-le";
  bool demo = false;
  int threads = 0;
  int stats = 0;
};

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

void addPhantomCommand(CLI::App& app, CLI::App& bench, CliContext& ctx) {
  auto args = std::make_shared<PhantomArgs>();
  auto* cmd = app.add_subcommand(
      "phantom", "Write a synthetic lung-screening cohort: one study folder per case (DICOM CT series, "
                 "note.txt, fhir.json, truth.json) + cohort.json/cohort.csv");
  cmd->add_option("--cases", args->cases, "Number of cases")->check(CLI::Range(1, 1000000));
  cmd->add_option("--out", args->out, "Output folder (required unless --stats)");
  cmd->add_option("--seed", args->seed, "Cohort seed (same seed + version = same bytes)");
  cmd->add_option("--size", args->size, "small (fast, ~2 mm voxels) or full (512x512, 0.6-0.8 mm)")
      ->check(CLI::IsMember({"small", "full"}));
  cmd->add_option("--lang", args->lang, "Note language: en, zh or mixed")->check(CLI::IsMember({"en", "zh", "mixed"}));
  cmd->add_option("--transfer-syntax", args->syntax, "DICOM transfer syntax of the written series")
      ->check(CLI::IsMember(imaging::transferSyntaxNames()));
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores)");
  cmd->add_option("--stats", args->stats,
                  "Only print cohort statistics of the first N records (prevalence, Brock-oracle AUC, "
                  "Lung-RADS mix); writes nothing");
  cmd->add_flag("--demo", args->demo,
                "Write the demo study: the first clearly positive case of the seed into --out (full size "
                "unless --size is given)");
  cmd->callback([args, cmd, &ctx] {
    phantom::PhantomOptions popt;
    popt.size = kSizes.at(args->size);
    popt.language = kLanguages.at(args->lang);
    const auto syntax = imaging::transferSyntaxFromName(args->syntax);
    if (args->stats > 0) {
      std::cout << phantom::CohortStatistics::compute(args->seed, args->stats, popt).summary();
      ctx.exitCode = 0;
      return;
    }
    if (args->out.empty()) throw UsageError("phantom: --out DIR is required");
    if (args->demo) {
      if (cmd->count("--size") == 0) popt.size = phantom::SizePreset::Full;  // --size small: a quick demo
      const phantom::CohortGenerator gen(args->seed, popt);
      const int index = workflow::findDemoCaseIndex(gen);
      const auto w = workflow::writeCase(gen.generate(index), args->out, syntax);
      std::cout << "demo study (seed " << args->seed << ", case " << index << ", Lung-RADS " << w.lungRads
                << ", Brock " << w.brockProbability << ") written to " << w.folder << "\n";
      ctx.exitCode = 0;
      return;
    }
    workflow::CohortWriteOptions opt;
    opt.seed = args->seed;
    opt.cases = args->cases;
    opt.phantom = popt;
    opt.transferSyntax = syntax;
    opt.threads = args->threads;
    const auto t0 = std::chrono::steady_clock::now();
    const auto written = workflow::writeCohort(args->out, opt, [](int done, int total) {
      if (done == total || done % 10 == 0) std::cerr << "phantom: " << done << "/" << total << " cases\r";
    });
    int positives = 0;
    for (const auto& w : written) positives += w.cancer ? 1 : 0;
    std::cerr << "\n";
    std::cout << written.size() << " case(s), " << positives << " positive, written to "
              << std::filesystem::absolute(args->out).string() << " in " << secondsSince(t0) << " s\n";
    ctx.exitCode = 0;
  });

  auto* b = bench.add_subcommand(
      "phantom", "Time the cohort generator: N small cases, M full-size cases, R records (no volume)");
  auto bargs = std::make_shared<std::array<int, 4>>(std::array<int, 4>{100, 1, 2000, 0});
  auto json = std::make_shared<bool>(false);
  b->add_option("--small-cases", (*bargs)[0], "Small cases")->check(CLI::Range(0, 100000));
  b->add_option("--full-cases", (*bargs)[1], "Full-size cases")->check(CLI::Range(0, 1000));
  b->add_option("--records", (*bargs)[2], "Records without volume")->check(CLI::Range(0, 1000000));
  b->add_option("--threads", (*bargs)[3], "Volume threads (0: all cores)");
  b->add_flag("--json", *json, "Print JSON");
  b->callback([bargs, json, &ctx] {
    const auto r = phantom::PhantomBenchmark::run(1, (*bargs)[0], (*bargs)[1], (*bargs)[2], (*bargs)[3]);
    if (*json)
      std::cout << nlohmann::json{{"small_cases", r.smallCases},     {"small_cases_s", r.smallSeconds},
                                  {"full_cases", r.fullCases},       {"full_cases_s", r.fullSeconds},
                                  {"records", r.records},            {"records_s", r.recordSeconds},
                                  {"threads", r.threads}}
                       .dump(2)
                << "\n";
    else
      std::cout << r.summary();
    ctx.exitCode = 0;
  });
}
}  // namespace cli
