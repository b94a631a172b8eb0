// medseek-cli phantom: writes a synthetic cohort (DICOM + note + FHIR + truth per study).
// medseek-cli bench phantom: generation speed of the cohort generator.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "Commands.h"
#include "workflow/CohortWriter.h"

namespace cli {
namespace {
const std::map<std::string, phantom::SizePreset> kSizes{{"small", phantom::SizePreset::Small},
                                                         {"full", phantom::SizePreset::Full}};
const std::map<std::string, phantom::LanguageMix> kLanguages{{"en", phantom::LanguageMix::English},
                                                              {"zh", phantom::LanguageMix::Chinese},
                                                              {"mixed", phantom::LanguageMix::Mixed}};
const std::map<std::string, imaging::TransferSyntax> kSyntaxes{
    {"explicit-le", imaging::TransferSyntax::ExplicitVrLittleEndian},
    {"implicit-le", imaging::TransferSyntax::ImplicitVrLittleEndian},
    {"explicit-be", imaging::TransferSyntax::ExplicitVrBigEndian},
    {"deflate", imaging::TransferSyntax::DeflatedExplicitVrLittleEndian},
    {"jpeg-lossless", imaging::TransferSyntax::JpegLossless},
    {"jpeg-ls", imaging::TransferSyntax::JpegLsLossless},
    {"rle", imaging::TransferSyntax::RleLossless},
    {"j2k", imaging::TransferSyntax::Jpeg2000Lossless}};

struct PhantomArgs {
  int cases = 1;
  std::string out;
  std::uint64_t seed = 1;
  std::string size = "small", lang = "en", syntax = "explicit-le";
  bool demo = false;
  int threads = 0;
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
  cmd->add_option("--out", args->out, "Output folder")->required();
  cmd->add_option("--seed", args->seed, "Cohort seed (same seed + version = same bytes)");
  cmd->add_option("--size", args->size, "small (fast, ~2 mm voxels) or full (512x512, 0.6-0.8 mm)")
      ->check(CLI::IsMember({"small", "full"}));
  cmd->add_option("--lang", args->lang, "Note language: en, zh or mixed")->check(CLI::IsMember({"en", "zh", "mixed"}));
  cmd->add_option("--transfer-syntax", args->syntax, "DICOM transfer syntax of the written series")
      ->check(CLI::IsMember({"explicit-le", "implicit-le", "explicit-be", "deflate", "jpeg-lossless",
                             "jpeg-ls", "rle", "j2k"}));
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores)");
  cmd->add_flag("--demo", args->demo,
                "Write the demo study: the first clearly positive case of the seed, full size, into --out");
  cmd->callback([args, &ctx] {
    phantom::PhantomOptions popt;
    popt.size = kSizes.at(args->size);
    popt.language = kLanguages.at(args->lang);
    const auto syntax = kSyntaxes.at(args->syntax);
    if (args->demo) {
      popt.size = phantom::SizePreset::Full;
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

  auto* b = bench.add_subcommand("phantom", "Time the cohort generator: one full-size case and N small ones");
  auto smallCases = std::make_shared<int>(100);
  auto json = std::make_shared<bool>(false);
  b->add_option("--small-cases", *smallCases, "Number of small cases")->check(CLI::Range(1, 100000));
  b->add_flag("--json", *json, "Print JSON");
  b->callback([smallCases, json, &ctx] {
    phantom::PhantomOptions full;
    full.size = phantom::SizePreset::Full;
    auto t0 = std::chrono::steady_clock::now();
    const auto c = phantom::CohortGenerator(1, full).generate(0);
    const double fullS = secondsSince(t0);
    const phantom::CohortGenerator smallGen(1);
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < *smallCases; ++i) (void)smallGen.generate(i);
    const double smallS = secondsSince(t0);
    const auto& g = c.volume.geometry();
    nlohmann::json j{{"full_case_s", fullS},
                     {"full_voxels", g.voxelCount()},
                     {"full_size", {g.size[0], g.size[1], g.size[2]}},
                     {"small_cases", *smallCases},
                     {"small_cases_s", smallS}};
    if (*json)
      std::cout << j.dump(2) << "\n";
    else
      std::cout << "one full-size case (" << g.size[0] << "x" << g.size[1] << "x" << g.size[2] << "): " << fullS
                << " s\n" << *smallCases << " small cases: " << smallS << " s\n";
    ctx.exitCode = 0;
  });
}
}  // namespace cli
