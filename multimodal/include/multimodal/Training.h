#pragma once
/// Training: trains the MedSeek MoE model on a synthetic cohort generated on the fly
/// (phantom::CohortGenerator): generate + preprocess on CPU threads, cache uint8 tensors in (GPU) memory,
/// then epochs on the device with modality dropout, text augmentation, bf16 autocast on CUDA, a seeded
/// shuffle, checkpoints, and temperature scaling fitted on a validation split.
///
///   multimodal::TrainOptions opt;
///   opt.trainCases = 4000; opt.valCases = 600; opt.epochs = 30; opt.seed = 20261129;
///   opt.outputPath = "resources/models/medseek-moe-v1.msw"; opt.vocabPath = "resources/models/vocab.txt";
///   opt.log = [](const std::string& line) { std::cerr << line << "\n"; };
///   auto report = multimodal::train(opt);     // throws ModelError
///
/// Limitations: the whole cohort must fit in memory (2 MB per case); one device.
/// Continuing from earlier weights (`initPath`) starts a new warm-up + cosine schedule.
#include <cstdint>
#include <functional>
#include <string>

namespace multimodal {

struct TrainOptions {
  std::uint64_t seed = 20261129;
  int trainCases = 4000;
  int valCases = 600;
  std::string size = "small";  ///< phantom size: small | full | mixed (every 8th case full)
  int epochs = 30;
  int batchSize = 32;
  double learningRate = 1e-3;
  double weightDecay = 0.01;
  std::string device = "auto";
  bool mixedPrecision = true;  ///< bf16 autocast of the image encoder on CUDA
  bool dense = false;          ///< dense FFN of equal active compute instead of the MoE
  double modalityDropout = 0.15;  ///< per case: image masked with this probability, text likewise
  int textVariants = 4;        ///< augmented note variants per case (plus the original)
  int threads = 0;             ///< CPU threads for generation (0: all cores)
  std::string outputPath;      ///< final weights (.msw)
  std::string vocabPath;       ///< vocabulary file (optional)
  std::string checkpointDir;   ///< checkpoints every checkpointEvery epochs (optional)
  std::string initPath;        ///< start from these weights (.msw): its vocabulary, and every tensor whose name
                               ///< and shape match (a dense run from MoE weights keeps all but the FFN)
  std::string cohortCache;     ///< generated + preprocessed cohort file: read when it exists and matches
                               ///< (seed, cases, size, variants), else generated and written there
  int checkpointEvery = 10;
  int maxSteps = 0;            ///< stop after this many optimiser steps (0: no limit; smoke tests)
  double maxTrainSeconds = 0;  ///< wall-clock budget of the epochs (0: none); the schedule shrinks to fit
  double balanceWeight = 0.05; ///< weight of the load-balancing loss
  std::string command;         ///< recorded in the weights metadata
  std::function<void(const std::string&)> log;
};

struct TrainReport {
  int trainCases = 0, valCases = 0, skippedOutOfScope = 0;
  double generateSeconds = 0, trainSeconds = 0;
  double temperature = 1;
  double valAuc = 0, valOracleAuc = 0;
  double valNllBefore = 0, valNllAfter = 0;
  int steps = 0;
  int vocabSize = 0;
};

TrainReport train(const TrainOptions& options);

}  // namespace multimodal
