// medseek-cli screen INPUT... --out DIR: risk-ranked worklist of a folder of studies (resumable), and
// medseek-cli bench screen INPUT...: the same pipeline timed (studies/s, load/preprocess/model/explain).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "Commands.h"
#include "workflow/RemoveTree.h"
#include "workflow/Screening.h"

namespace cli {
namespace {
namespace fs = std::filesystem;

// Set by SIGINT/SIGTERM; a signal handler can only reach a static. The handler resets itself
// (SA_RESETHAND), so a second Ctrl-C kills at once - the WAL database stays resumable even then.
std::atomic<bool> gStopRequested{false};
extern "C" void onStopSignal(int) {
  gStopRequested.store(true);
}

void installStopHandler() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct ScreenArgs {
  std::vector<std::string> inputs;
  std::string out, device = "auto", notes, weights, lang = "en";
  int batch = 4, workers = 2, threads = 0, queue = 0, batchWaitMs = 50;
  bool resume = false, report = false, heatmap = false, keep = false, cpuResample = false, cudnnAutotune = false;
};

std::string clock(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

/// Progress bar with ETA on a terminal, one plain line per study otherwise (logs, CI).
workflow::ScreeningProgressFn progressPrinter() {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  return [tty](const workflow::ScreeningProgress& p) {
    if (p.studyKey.empty()) {
      std::fprintf(stderr, "%sscreen: %s (%.1f s)\n", tty ? "\r\033[K" : "", p.message.c_str(),
                   p.elapsedSeconds);
      return;
    }
    const double eta = p.done > 0 ? p.elapsedSeconds / p.done * (p.total - p.done) : NAN;
    char result[48] = "";
    if (p.status == "analysed") std::snprintf(result, sizeof result, " p=%.3f", p.probability);
    if (tty) {
      const int width = 30, filled = p.total > 0 ? width * p.done / p.total : width;
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, '.');
      std::fprintf(stderr, "\r\033[K[%s] %d/%d %3d%%  %s elapsed, ETA %s  (%s %s%s)", bar.c_str(), p.done,
                   p.total, p.total > 0 ? 100 * p.done / p.total : 100, clock(p.elapsedSeconds).c_str(),
                   clock(eta).c_str(), p.studyKey.substr(0, 24).c_str(), p.status.c_str(), result);
      if (p.done == p.total) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "screen: %d/%d %s %s%s (%.1f s elapsed, ETA %s)\n", p.done, p.total,
                   p.studyKey.c_str(), p.status.c_str(), result, p.elapsedSeconds, clock(eta).c_str());
    }
    std::fflush(stderr);
  };
}

workflow::ScreeningOptions toOptions(const ScreenArgs& a) {
  workflow::ScreeningOptions o;
  o.inputs = a.inputs;
  o.outDir = a.out;
  o.device = a.device;
  o.modelPath = a.weights;
  o.language = a.lang;
  o.batch = a.batch;
  o.workers = a.workers;
  o.threads = a.threads;
  o.resampleOnGpu = !a.cpuResample;
  o.cudnnAutotune = a.cudnnAutotune;
  o.queue = a.queue;
  o.batchWaitMs = a.batchWaitMs;
  o.resume = a.resume;
  o.notesCsv = a.notes;
  o.reports = a.report;
  o.heatmaps = a.heatmap;
  return o;
}

workflow::ScreeningSummary runOrExplain(const workflow::ScreeningOptions& o) {
  installStopHandler();
  try {
    return workflow::runScreening(o, progressPrinter(), &gStopRequested);
  } catch (const workflow::ScreeningUsageError& e) {
    throw UsageError(e.what());
  } catch (const std::exception& e) {
    // Per-study problems never get here (they are rows of the worklist): what does is the environment
    // (model weights, device, output folder, database).
    throw UsageError(std::string("screen: ") + e.what());
  }
}

void addCommonOptions(CLI::App* c, ScreenArgs& a) {
  c->add_option("inputs", a.inputs, "folders (searched recursively), DICOMDIR files or DICOM files")
      ->required();
  c->add_option("--device", a.device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  c->add_option("--batch", a.batch, "prepared studies per batched model pass")
      ->check(CLI::Range(1, 256));
  c->add_option("--workers", a.workers, "CPU threads that load, decode, preprocess and finish studies (findings, narrative)")
      ->check(CLI::Range(1, 64));
  c->add_option("--queue", a.queue,
                "studies prepared or being prepared ahead of the model, each holding its CT in memory "
                "(0: batch + workers)")
      ->check(CLI::Range(0, 1024));
  c->add_option("--batch-wait", a.batchWaitMs,
                "milliseconds the model waits for more prepared studies after the first of a round")
      ->check(CLI::Range(0, 10000));
  c->add_option("--notes", a.notes, "CSV (header, then key,note) with key = PatientID or AccessionNumber");
  c->add_option("--weights", a.weights, "model weights (.msw); default: the shipped model or $MEDSEEK_MODEL");
  c->add_option("--threads", a.threads, "model CPU threads (0: all cores on CPU, 1 when the model runs on CUDA)");
  c->add_option("--lang", a.lang, "narrative language in result.json: en | zh")
      ->check(CLI::IsMember({"en", "zh"}));
  c->add_flag("--cpu-resample", a.cpuResample,
              "the workers resample each CT on the CPU even when the model runs on CUDA (default: on its GPU)");
  c->add_flag("--cudnn-autotune", a.cudnnAutotune,
              "CUDA: cuDNN times its convolution algorithms for each batch shape and keeps the fastest");
}
}  // namespace

void addScreenCommand(CLI::App& app, CLI::App& bench, CliContext& ctx) {
  auto a = std::make_shared<ScreenArgs>();
  auto* c = app.add_subcommand(
      "screen",
      "Screen a folder of studies: risk-ranked worklist (worklist.json/.csv, summary.json, "
      "studies/<uid>/result.json) "
      "recorded in DIR/screening.db; --resume continues an interrupted run. Notes: note.txt / fhir.json "
      "beside the "
      "study, else --notes CSV, else DICOM AdditionalPatientHistory, else image-only. Exit: 0 all analysed, "
      "1 some "
      "failed or out of scope (listed on stderr), 2 usage/environment error, 130 interrupted (resumable)");
  addCommonOptions(c, *a);
  c->add_option("--out", a->out, "output folder")->required();
  c->add_flag("--resume", a->resume,
              "continue the run recorded in DIR/screening.db (finished studies are kept)");
  c->add_flag("--report", a->report, "also write PDF/SR/SEG/PM/EPDF/FHIR into DIR/studies/<uid>/report/");
  c->add_flag("--heatmap", a->heatmap, "also write DIR/studies/<uid>/heatmap.mha");
  c->callback([a, &ctx] {
    const auto s = runOrExplain(toOptions(*a));
    std::printf("%d studies: %d analysed, %d out of scope, %d failed%s\nworklist: %s\nsummary:  %s\n",
                s.discovered, s.analysed, s.outOfScope, s.failed,
                s.notProcessed ? (", " + std::to_string(s.notProcessed) + " not processed yet").c_str() : "",
                s.worklistJson.c_str(), s.summaryJson.c_str());
    for (const auto& f : s.failures)
      std::fprintf(stderr, "%s: %s (%s): %s\n", f.status.c_str(), f.studyKey.c_str(), f.folder.c_str(),
                   f.reason.c_str());
    if (s.interrupted) {
      std::fprintf(stderr, "interrupted: %d studies not processed; run again with --resume to finish\n",
                   s.notProcessed);
      ctx.exitCode = 130;
    } else {
      ctx.exitCode = s.failed + s.outOfScope > 0 ? 1 : 0;
    }
  });

  auto b = std::make_shared<ScreenArgs>();
  auto* bc =
      bench.add_subcommand("screen",
                           "Time the screening pipeline on a folder of studies: studies/s and the split "
                           "load / preprocess / model / explain (into a temporary --out unless given)");
  addCommonOptions(bc, *b);
  bc->add_option("--out", b->out, "output folder (default: a temporary folder, removed afterwards)");
  bc->add_flag("--heatmap", b->heatmap, "include writing heatmaps on the CT grid");
  bc->callback([b, &ctx] {
    ScreenArgs args = *b;
    bool temporary = false;
    if (args.out.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "medseek-bench-screen-XXXXXX").string();
      if (!::mkdtemp(tmpl.data()))
        throw UsageError("cannot create a temporary folder in " + fs::temp_directory_path().string());
      args.out = tmpl;
      temporary = true;
    }
    const workflow::ScreeningOptions options = toOptions(args);
    const auto s = runOrExplain(options);
    const int n = s.processedThisRun;
    const double wallPerStudy = n ? s.wallSeconds / n : 0, modelPerStudy = n ? s.modelSeconds / n : 0;
    std::printf(
        "bench screen: %d studies (%d analysed, %d out of scope, %d failed) in %.2f s wall = %.3f studies/s\n"
        "  of which setup (lock, discovery) %.2f s; the pipeline alone: %.2f s = %.3f studies/s\n"
        "  batch %d, workers %d, device %s\n"
        "  per study (mean): load %.3f s, preprocess %.3f s, explain %.3f s (CPU workers, overlapped) | "
        "model %.4f s (its share of the batched pass on the model thread)\n"
        "  sums: load %.2f s, preprocess %.2f s, explain %.2f s | model %.2f s (model thread busy %.0f %% of the wall time)\n"
        "  end to end %.4f s per study = %.2f x the model's %.4f s\n",
        n, s.analysed, s.outOfScope, s.failed, s.wallSeconds, s.wallSeconds > 0 ? n / s.wallSeconds : 0.0,
        s.setupSeconds, s.wallSeconds - s.setupSeconds,
        s.wallSeconds > s.setupSeconds ? n / (s.wallSeconds - s.setupSeconds) : 0.0, args.batch, args.workers, s.device.c_str(), n ? s.loadSeconds / n : 0, n ? s.preprocessSeconds / n : 0,
        n ? s.explainSeconds / n : 0, modelPerStudy, s.loadSeconds, s.preprocessSeconds, s.explainSeconds,
        s.modelSeconds, s.wallSeconds > 0 ? 100 * s.modelSeconds / s.wallSeconds : 0.0, wallPerStudy,
        modelPerStudy > 0 ? wallPerStudy / modelPerStudy : 0.0, modelPerStudy);
    std::printf(
        "  CPU time per study: load %.3f s, preprocess %.3f s (waiting for the device %.3f s of its wall time), "
        "explain %.3f s; the process used %.1f cores on average (%.2f s user + system)\n",
        n ? s.loadCpuSeconds / n : 0, n ? s.preprocessCpuSeconds / n : 0, n ? s.deviceWaitSeconds / n : 0,
        n ? s.explainCpuSeconds / n : 0, s.wallSeconds > 0 ? s.processCpuSeconds / s.wallSeconds : 0.0,
        s.processCpuSeconds);
    std::printf(
        "  model ready %.2f s after the start (loading overlapped with discovery and the first studies' loading)\n"
        "  page faults per study: load %.0f, preprocess %.0f, explain %.0f; CT buffers %zu fresh, %zu reused; "
        "workers waited for work %.0f %% of their time\n",
        s.modelReadySeconds, n ? s.loadFaults / n : 0, n ? s.preprocessFaults / n : 0, n ? s.explainFaults / n : 0,
        s.freshVoxelBuffers, s.reusedVoxelBuffers,
        s.wallSeconds > s.setupSeconds && args.workers > 0
            ? 100 * s.workerIdleSeconds / (args.workers * (s.wallSeconds - s.setupSeconds))
            : 0.0);
    std::printf(
        "  model thread: %d rounds (%.1f studies each), the first at %.2f s; it waited %.2f s for prepared "
        "studies (queue %d, batch wait %d ms)\n",
        s.modelRounds, s.modelRounds ? static_cast<double>(n) / s.modelRounds : 0.0, s.firstRoundSeconds,
        s.modelWaitSeconds, workflow::effectiveQueue(options), options.batchWaitMs);
    // On a GPU the first round also loads the libraries and kernels (once per process): the later rounds
    // give the model's compute per study without that.
    const int later = s.modelStudies - s.firstRoundStudies;
    if (s.modelRounds > 1 && later > 0 && s.modelSeconds > s.firstRoundModelSeconds) {
      const double laterPerStudy = (s.modelSeconds - s.firstRoundModelSeconds) / later;
      std::printf(
          "  first round: %d studies, model %.3f s (%.4f s per study); the later rounds: the model's %.4f s per "
          "study, end to end %.2f x that\n",
          s.firstRoundStudies, s.firstRoundModelSeconds,
          s.firstRoundStudies ? s.firstRoundModelSeconds / s.firstRoundStudies : 0.0, laterPerStudy,
          wallPerStudy / laterPerStudy);
    }
    if (temporary) {
      std::error_code ec;
      workflow::removeTree(args.out, ec);
    }
    ctx.exitCode = s.interrupted ? 130 : 0;
  });
}

}  // namespace cli
