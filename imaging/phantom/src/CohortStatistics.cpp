#include "phantom/CohortStatistics.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "JsonWriter.h"

namespace phantom {

double CohortStatistics::auc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  if (scores.size() != labels.size()) throw PhantomError("AUC: scores and labels differ in length");
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Mid-ranks for ties.
  std::vector<double> rank(scores.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && scores[order[j + 1]] == scores[order[i]]) ++j;
    const double mid = 0.5 * (static_cast<double>(i) + static_cast<double>(j)) + 1.0;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = mid;
    i = j + 1;
  }
  double pos = 0, rankSum = 0;
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i]) {
      ++pos;
      rankSum += rank[i];
    }
  const double neg = static_cast<double>(labels.size()) - pos;
  if (pos == 0 || neg == 0) return 0.5;
  return (rankSum - pos * (pos + 1) / 2) / (pos * neg);
}

CohortStatistics CohortStatistics::compute(std::uint64_t seed, int cases, const PhantomOptions& options) {
  if (cases <= 0) throw PhantomError("cohort statistics: need at least one case");
  CohortGenerator gen(seed, options);
  CohortStatistics s;
  s.cases = cases;
  std::vector<double> scores;
  std::vector<bool> labels;
  double brockSum = 0;
  for (int i = 0; i < cases; ++i) {
    const Case c = gen.generateRecord(i);
    scores.push_back(c.brockProbability);
    labels.push_back(c.cancer);
    brockSum += c.brockProbability;
    s.positives += c.cancer ? 1 : 0;
    s.nodules += static_cast<int>(c.nodules.size());
    s.casesWithNodules += c.nodules.empty() ? 0 : 1;
    for (const auto& n : c.nodules) s.calcifiedNodules += n.calcified ? 1 : 0;
    s.emphysemaCases += c.emphysema ? 1 : 0;
    s.chineseNotes += c.noteLanguage == Language::Chinese ? 1 : 0;
    ++s.lungRadsCounts[static_cast<std::size_t>(c.lungRads)];
  }
  s.prevalence = static_cast<double>(s.positives) / cases;
  s.meanBrock = brockSum / cases;
  s.brockOracleAuc = auc(scores, labels);
  return s;
}

std::string CohortStatistics::summary() const {
  using detail::formatNumber;
  std::string out;
  out += "cases: " + std::to_string(cases) + "\n";
  out += "positives: " + std::to_string(positives) + " (prevalence " + formatNumber(prevalence, 4) + ")\n";
  out += "mean Brock probability: " + formatNumber(meanBrock, 4) + "\n";
  out += "Brock oracle AUC: " + formatNumber(brockOracleAuc, 4) + "\n";
  out += "nodules: " + std::to_string(nodules) + " in " + std::to_string(casesWithNodules) + " cases (" +
         std::to_string(calcifiedNodules) + " calcified)\n";
  out += "emphysema: " + std::to_string(emphysemaCases) +
         " cases; Chinese notes: " + std::to_string(chineseNotes) + "\n";
  static const char* names[] = {"0", "1", "2", "3", "4A", "4B", "4X"};
  out += "Lung-RADS:";
  for (std::size_t i = 0; i < lungRadsCounts.size(); ++i)
    if (lungRadsCounts[i]) out += std::string(" ") + names[i] + "=" + std::to_string(lungRadsCounts[i]);
  return out + "\n";
}

}  // namespace phantom
