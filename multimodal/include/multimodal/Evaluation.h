#pragma once
/// Evaluation: scores a held-out synthetic cohort with a weights file and reports discrimination
/// (AUC + bootstrap 95 % CI, beside the Brock oracle's AUC on the same cases), image-only and
/// text-only AUC (other modality masked), calibration (ECE, reliability table), auxiliary accuracy,
/// note-factor accuracy, expert load, and English / Chinese separately.
///
///   multimodal::EvalOptions opt;  opt.weightsPath = path;  opt.cases = 1000;  opt.seed = 777;
///   auto r = multimodal::evaluate(opt);
///   std::cout << r.toJson();        // keys: auc, oracle_auc, auc_image_only, auc_text_only, ece, n, ...
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace multimodal {

struct EvalOptions {
  std::string weightsPath;
  int cases = 1000;
  std::uint64_t seed = 777;
  std::string size = "small";  ///< small | full
  std::string device = "auto";
  int batch = 16;
  int threads = 0;
  std::function<void(const std::string&)> log;
};

struct ReliabilityBin {
  double lo = 0, hi = 0;
  int n = 0;
  double meanPredicted = 0, observedRate = 0;
};

struct EvalReport {
  int n = 0, outOfScope = 0, positives = 0;
  double auc = 0, aucLo = 0, aucHi = 0, oracleAuc = 0, oracleLo = 0, oracleHi = 0;
  double aucImageOnly = 0, aucTextOnly = 0;
  double ece = 0, brier = 0;
  std::vector<ReliabilityBin> reliability;
  double diameterMaeMm = 0, typeAccuracy = 0, lobeAccuracy = 0, noduleAccuracy = 0, spiculationAccuracy = 0,
         emphysemaAccuracy = 0, countAccuracy = 0;
  double factorAccuracy = 0;  ///< mean of age (within 1 year), sex, family history, smoking, prior cancer
  double ageAccuracy = 0, ageMae = 0, sexAccuracy = 0, familyHistoryAccuracy = 0, smokingAccuracy = 0,
         priorCancerAccuracy = 0;
  std::vector<double> expertLoad;  ///< share of top-2 routing weight per expert
  double expertLoadCv = 0;         ///< coefficient of variation of expertLoad
  double meanImageShare = 0;
  struct Lang {
    int n = 0;
    double auc = 0, oracleAuc = 0, factorAccuracy = 0;
  } english, chinese;
  double preprocessSecondsPerCase = 0, modelSecondsPerCase = 0, seconds = 0;
  std::string weightsPath, size, device;
  std::uint64_t seed = 0;

  std::string toJson() const;
  std::string toText() const;
};

EvalReport evaluate(const EvalOptions& options);

}  // namespace multimodal
