// medseek-cli analyze STUDY_DIR: the whole pipeline (load -> model -> Grad-CAM -> findings -> Lung-RADS,
// Brock -> narrative) on one study through workflow::Analyzer, printed as text or JSON.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "Commands.h"
#include "workflow/Analyzer.h"
#include "workflow/AnalysisJson.h"

namespace cli {
namespace {
struct AnalyzeArgs {
  std::string study, cam;
  workflow::AnalysisOptions options;
  bool json = false, progress = false;
};

void printText(const workflow::AnalysisResult& r) {
  const auto& e = r.explanation;
  std::printf("Study   %s\nSeries  %s\nNote    %s\nModel   %s (sha256 %s)\n\n", r.study.path.c_str(),
              r.study.seriesInstanceUid.c_str(), r.note.source.c_str(), r.modelPath.c_str(), r.modelSha256.substr(0, 16).c_str());
  if (!e.outOfScope) {
    std::printf("Probability %.1f%%   image %.0f%% / note %.0f%%   Lung-RADS %s   Brock %s\n", 100 * e.probability,
                100 * e.routing.imageShare, 100 * e.routing.textShare,
                e.lungRadsCategory.empty() ? "-" : e.lungRadsCategory.c_str(),
                e.brock.computed ? (std::to_string(static_cast<int>(std::lround(1000 * e.brock.probability)) / 10.0).substr(0, 5) + "%").c_str()
                                 : "-");
    for (const auto& f : e.findings)
      std::printf("Finding %d: %s %s, %.1f mm, %.0f HU, LPS (%.1f, %.1f, %.1f) mm, slices %d-%d, CAM peak %.2f\n", f.rank,
                  f.measured ? f.type.c_str() : "(not measured)", f.lobe.c_str(), f.diameterMm, f.meanHu, f.centerLps[0],
                  f.centerLps[1], f.centerLps[2], f.sliceFirst, f.sliceLast, f.camPeak);
  }
  std::printf("\n%s\n", e.narrativeText().c_str());
  std::printf("\n(%.2f s: load %.2f, preprocess %.2f, forward %.2f, Grad-CAM %.2f, findings %.2f)\n", r.totalSeconds,
              r.loadSeconds, e.preprocessSeconds, e.forwardSeconds, e.camSeconds, e.findingsSeconds);
}
}  // namespace

void addAnalysisOptions(CLI::App* c, workflow::AnalysisOptions& o, const std::string& langHelp) {
  c->add_option("--note", o.noteFile, "clinical note file (default: note.txt, fhir.json, DICOM history)");
  c->add_option("--weights", o.modelPath, "model weights (.msw); default: the shipped model or $MEDSEEK_MODEL");
  c->add_option("--device", o.device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  c->add_option("--lang", o.language, langHelp)->check(CLI::IsMember({"en", "zh"}));
  c->add_option("--threads", o.threads, "CPU threads (0: default)");
  c->add_flag_callback(
      "--eager", [&o] { o.cudaGraphs = false; },
      "on CUDA: run the model's pass eagerly instead of replaying it as a captured CUDA graph");
}

void addAnalyzeCommand(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<AnalyzeArgs>();
  auto* c = app.add_subcommand(
      "analyze",
      "Analyze one study: probability, Grad-CAM, findings, Lung-RADS, Brock, narrative. "
      "--json keys: probability, lung_rads, brock_probability, modality_share, experts, "
      "record_factors, findings, narrative, note_attributions, model_sha256, device, series_uid");
  c->add_option("study", a->study, "study folder, DICOMDIR or file")->required();
  addAnalysisOptions(c, a->options, "narrative language: en | zh");
  c->add_option("--series", a->options.seriesUid,
                "SeriesInstanceUID to analyse (default: the best chest-CT series)");
  c->add_option("--cam", a->cam, "write the heatmap on the CT grid as MetaImage (.mha, float)");
  c->add_flag("--plusplus", a->options.gradCamPlusPlus, "Grad-CAM++ instead of Grad-CAM");
  c->add_flag("--json", a->json, "print the result as JSON");
  c->add_flag("--progress", a->progress,
              "print 'progress STAGE FRACTION' lines on stderr (stages: model, load, explain, done)");
  c->callback([a, &ctx] {
    workflow::AnalysisOptions o = a->options;
    const bool progress = a->progress;
    auto say = [progress](const char* stage, double fraction) {
      if (progress) std::fprintf(stderr, "progress %s %.2f\n", stage, fraction), std::fflush(stderr);
    };
    say("model", 0);
    workflow::Analyzer analyzer(o);
    int lastPercent = -1;
    auto r = analyzer.analyze(a->study, [&](double f) {
      const int percent = static_cast<int>(f * 10) * 10;  // every 10 %
      if (percent != lastPercent) say("load", f);
      if (f >= 1.0 && lastPercent < 100) say("explain", 0);
      lastPercent = percent;
      return true;
    });
    // No heatmap (no image used, out of scope): no file, the JSON says heatmap.on_ct_grid = false.
    if (!a->cam.empty() && !r.explanation.heatmap.values.empty())
      workflow::writeHeatmapMha(r.explanation.heatmap, a->cam);
    say("done", 1);
    if (a->json) {
      std::cout << workflow::analysisToJson(r) << "\n";
    } else {
      printText(r);
    }
    ctx.exitCode = r.explanation.outOfScope ? 1 : 0;
  });
}

}  // namespace cli
