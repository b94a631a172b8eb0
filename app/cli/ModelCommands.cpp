// medseek-cli train | evaluate | bench model: the multimodal model's training, held-out evaluation and
// benchmark. LibTorch only (no DICOM): also built by the torch-only preset on the GPU machine.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "Commands.h"
#include "multimodal/Evaluation.h"
#include "multimodal/Model.h"
#include "multimodal/Runtime.h"
#include "multimodal/Training.h"
#include "phantom/CohortGenerator.h"

namespace cli {
namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::string joinArgs(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

struct TrainArgs {
  multimodal::TrainOptions opt;
  std::string logPath;
};
struct EvalArgs {
  multimodal::EvalOptions opt;
  bool json = false;
  std::string outPath;
};
struct BenchArgs {
  std::string weights, device = "auto", size = "full", batches = "1,8,32";
  int cases = 3, threads = 0, repeats = 3;
  bool json = false;
};

void runBench(const BenchArgs& a) {
  multimodal::ModelOptions mo;
  mo.device = a.device;
  mo.cpuThreads = a.threads;
  mo.maxBatch = 1024;
  auto model = multimodal::Model::load(a.weights.empty() ? multimodal::Model::defaultPath() : a.weights, mo);
  std::vector<int> batches;
  std::stringstream ss(a.batches);
  for (std::string t; std::getline(ss, t, ',');)
    if (!t.empty()) batches.push_back(std::stoi(t));
  if (batches.empty()) throw UsageError("--batch needs a list such as 1,8,32");
  phantom::PhantomOptions po;
  po.size = a.size == "small" ? phantom::SizePreset::Small : phantom::SizePreset::Full;
  po.language = phantom::LanguageMix::Mixed;
  phantom::CohortGenerator gen(4242, po);
  std::vector<multimodal::PreprocessedVolume> pre;
  std::vector<std::string> notes;
  std::vector<double> preTimes;
  auto popt = model.preprocessOptions();
  popt.threads = a.threads;
  for (int i = 0; i < std::max(1, a.cases); ++i) {
    auto c = gen.generate(i);
    const double t0 = now();
    pre.push_back(multimodal::preprocessVolume(c.volume, popt));
    preTimes.push_back(now() - t0);
    notes.push_back(c.note);
    if (!pre.back().inScope) throw std::runtime_error("benchmark case out of scope: " + pre.back().reason);
  }
  std::sort(preTimes.begin(), preTimes.end());
  const double preMedian = preTimes[preTimes.size() / 2];
  struct Row {
    int batch;
    double batchSeconds, perCaseMs, casesPerSecond;
  };
  std::vector<Row> rows;
  for (int b : batches) {
    std::vector<multimodal::CaseInput> in(static_cast<std::size_t>(b));
    for (int i = 0; i < b; ++i) {
      in[static_cast<std::size_t>(i)].preprocessed = &pre[static_cast<std::size_t>(i) % pre.size()];
      in[static_cast<std::size_t>(i)].note = notes[static_cast<std::size_t>(i) % notes.size()];
    }
    model.predict(in);  // warm-up (allocator, cuDNN plans)
    std::vector<double> ts;
    for (int r = 0; r < std::max(1, a.repeats); ++r) {
      const double t0 = now();
      model.predict(in);
      ts.push_back(now() - t0);
    }
    std::sort(ts.begin(), ts.end());
    const double t = ts[ts.size() / 2];
    rows.push_back({b, t, 1000.0 * t / b, b / t});
  }
  const auto rt = multimodal::runtimeInfo();
  const double e2e = preMedian + rows.front().batchSeconds / rows.front().batch;
  if (a.json) {
    std::cout << "{\n  \"device\": \"" << model.info().device << "\",\n  \"torch\": \"" << rt.torchVersion
              << "\",\n  \"cpu_threads\": " << rt.cpuThreads << ",\n  \"size\": \"" << a.size
              << "\",\n  \"preprocess_seconds_median\": " << preMedian << ",\n  \"end_to_end_seconds_per_case\": " << e2e
              << ",\n  \"batches\": [";
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::cout << (i ? ", " : "") << "{\"batch\": " << rows[i].batch << ", \"batch_seconds\": " << rows[i].batchSeconds
                << ", \"per_case_ms\": " << rows[i].perCaseMs << ", \"cases_per_second\": " << rows[i].casesPerSecond
                << "}";
    std::cout << "],\n  \"peak_rss_mb\": " << peakRssMb() << "\n}\n";
  } else {
    std::printf("device %s, LibTorch %s, %d CPU threads, %s phantom\n", model.info().device.c_str(),
                rt.torchVersion.c_str(), rt.cpuThreads, a.size.c_str());
    std::printf("preprocessing: %.3f s per case (median of %zu)\n", preMedian, preTimes.size());
    for (const auto& r : rows)
      std::printf("batch %3d: %.4f s per batch, %.2f ms per case, %.1f cases/s (model only)\n", r.batch, r.batchSeconds,
                  r.perCaseMs, r.casesPerSecond);
    std::printf("end to end (preprocess + batch-1 model): %.3f s per case; peak RSS %.0f MB\n", e2e, peakRssMb());
  }
}
}  // namespace

void addModelCommands(CLI::App& app, CLI::App& bench, CliContext& ctx) {
  // ---- train ----
  auto ta = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "Train the multimodal MoE model on a generated synthetic cohort");
  auto& o = ta->opt;
  train->add_option("--cases", o.trainCases, "Training cases")->capture_default_str();
  train->add_option("--val", o.valCases, "Validation cases (temperature scaling)")->capture_default_str();
  train->add_option("--epochs", o.epochs, "Epochs")->capture_default_str();
  train->add_option("--batch", o.batchSize, "Batch size")->capture_default_str();
  train->add_option("--lr", o.learningRate, "Peak learning rate (AdamW, cosine)")->capture_default_str();
  train->add_option("--seed", o.seed, "Cohort + training seed")->capture_default_str();
  train->add_option("--size", o.size, "Phantom size: small | full | mixed")->capture_default_str();
  train->add_option("--device", o.device, "auto | cpu | cuda")->capture_default_str();
  train->add_option("--threads", o.threads, "CPU threads for generation (0: all)");
  train->add_option("--text-variants", o.textVariants, "Augmented note variants per case")->capture_default_str();
  train->add_option("--max-steps", o.maxSteps, "Stop after this many steps (smoke runs)");
  train->add_option("--time-budget", o.maxTrainSeconds, "Wall-clock seconds for the epochs (schedule shrinks to fit)");
  train->add_option("--balance-weight", o.balanceWeight, "Weight of the MoE load-balancing loss")->capture_default_str();
  train->add_option("--out", o.outputPath, "Weights file to write (.msw)")->required();
  train->add_option("--vocab-out", o.vocabPath, "Vocabulary file to write");
  train->add_option("--checkpoint-dir", o.checkpointDir, "Folder for checkpoints");
  train->add_option("--checkpoint-every", o.checkpointEvery, "Epochs between checkpoints")->capture_default_str();
  train->add_option("--init", o.initPath, "Start from these weights (.msw): their vocabulary and every matching tensor");
  train->add_option("--cohort-cache", o.cohortCache, "Cohort file: read if present (same seed/cases/size), else generated and written");
  train->add_option("--log", ta->logPath, "Also append the log to this file");
  train->add_flag("--dense", o.dense, "Dense FFN of equal active compute instead of the MoE");
  train->add_flag("!--no-amp", o.mixedPrecision, "Disable bf16 autocast on CUDA");
  train->callback([ta, &ctx] {
    auto logFile = std::make_shared<std::ofstream>();
    if (!ta->logPath.empty()) logFile->open(ta->logPath, std::ios::app);
    ta->opt.log = [logFile](const std::string& s) {
      std::cerr << s << std::endl;
      if (logFile->is_open()) *logFile << s << std::endl;
    };
    if (ta->opt.command.empty()) ta->opt.command = "medseek-cli train (see model card)";
    const auto r = multimodal::train(ta->opt);
    std::printf("trained %d cases (%d validation, %d out of scope) in %.1f s generation + %.1f s training; "
                "val AUC %.4f (oracle %.4f), temperature %.3f -> %s\n",
                r.trainCases, r.valCases, r.skippedOutOfScope, r.generateSeconds, r.trainSeconds, r.valAuc,
                r.valOracleAuc, r.temperature, ta->opt.outputPath.c_str());
    ctx.exitCode = 0;
  });

  // ---- evaluate ----
  auto ea = std::make_shared<EvalArgs>();
  auto* eval = app.add_subcommand("evaluate", "Evaluate the model on a held-out generated cohort");
  eval->add_option("--weights", ea->opt.weightsPath, "Weights file (default: the shipped model)");
  eval->add_option("--generate", ea->opt.cases, "Number of cases to generate")->capture_default_str();
  eval->add_option("--seed", ea->opt.seed, "Cohort seed (use one different from training)")->capture_default_str();
  eval->add_option("--size", ea->opt.size, "Phantom size: small | full")->capture_default_str();
  eval->add_option("--device", ea->opt.device, "auto | cpu | cuda")->capture_default_str();
  eval->add_option("--batch", ea->opt.batch, "Cases per forward pass")->capture_default_str();
  eval->add_option("--threads", ea->opt.threads, "CPU threads for generation (0: all)");
  eval->add_option("--out", ea->outPath, "Also write the JSON report to this file");
  eval->add_flag("--json", ea->json, "Print JSON instead of text");
  eval->callback([ea, &ctx] {
    if (ea->opt.weightsPath.empty()) ea->opt.weightsPath = multimodal::Model::defaultPath();
    ea->opt.log = [](const std::string& s) { std::cerr << s << std::endl; };
    const auto r = multimodal::evaluate(ea->opt);
    if (!ea->outPath.empty()) {
      std::ofstream f(ea->outPath);
      f << r.toJson();
      if (!f) throw std::runtime_error("cannot write '" + ea->outPath + "'");
    }
    std::cout << (ea->json ? r.toJson() : r.toText());
    ctx.exitCode = 0;
  });

  // ---- bench model ----
  auto ba = std::make_shared<BenchArgs>();
  auto* bm = bench.add_subcommand("model", "Model latency/throughput: preprocessing vs prediction, batch sizes");
  bm->add_option("--weights", ba->weights, "Weights file (default: the shipped model)");
  bm->add_option("--device", ba->device, "auto | cpu | cuda")->capture_default_str();
  bm->add_option("--batch", ba->batches, "Comma-separated batch sizes")->capture_default_str();
  bm->add_option("--size", ba->size, "Phantom size: full | small")->check(CLI::IsMember({"full", "small"}))->capture_default_str();
  bm->add_option("--cases", ba->cases, "Distinct cases to preprocess")->capture_default_str();
  bm->add_option("--repeats", ba->repeats, "Timed repetitions per batch size (median)")->capture_default_str();
  bm->add_option("--threads", ba->threads, "CPU threads (0: LibTorch default)");
  bm->add_flag("--json", ba->json, "Print JSON");
  bm->callback([ba, &ctx] {
    runBench(*ba);
    ctx.exitCode = 0;
  });
  (void)joinArgs;
}
}  // namespace cli
