#pragma once
/// CohortStatistics: label and risk summary of a synthetic cohort, from records only (no volumes, fast).
///
/// Used to check that a seed gives a trainable cohort (prevalence, Lung-RADS mix) and to report the ceiling
/// a model can reach: the AUC of the Brock oracle (study-level Brock probability on the true features
/// against the sampled label).
///
///   auto s = phantom::CohortStatistics::compute(/*seed=*/1, /*cases=*/2000);
///   std::cout << s.summary();   // prevalence 0.19, oracle AUC 0.87, ...
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "phantom/CohortGenerator.h"

namespace phantom {

struct CohortStatistics {
  int cases = 0;
  int positives = 0;          ///< studies with a malignant nodule
  double prevalence = 0;      ///< positives / cases
  double meanBrock = 0;       ///< mean study-level Brock probability
  double brockOracleAuc = 0;  ///< AUC of the study-level Brock probability against the label
  int nodules = 0;
  int casesWithNodules = 0;
  int calcifiedNodules = 0;
  int emphysemaCases = 0;
  int chineseNotes = 0;
  /// Cases per Lung-RADS category, indexed by clinical::LungRadsCategory (0, 1, 2, 3, 4A, 4B, 4X).
  std::array<int, 7> lungRadsCounts{};

  /// Statistics of cases 0..cases-1 of the cohort (records only, via CohortGenerator::generateRecord).
  static CohortStatistics compute(std::uint64_t seed, int cases, const PhantomOptions& options = {});
  /// AUC (Mann-Whitney, ties count one half) of `scores` against `labels`; 0.5 when a class is empty.
  static double auc(const std::vector<double>& scores, const std::vector<bool>& labels);
  /// Multi-line human-readable summary.
  std::string summary() const;
};

}  // namespace phantom
