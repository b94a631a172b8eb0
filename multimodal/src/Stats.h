#pragma once
// Small statistics helpers shared by training and evaluation (private).
#include <cstdint>
#include <utility>
#include <vector>

namespace multimodal::stats {
/// Mann-Whitney AUC (ties count half). NaN when one class is empty.
double auc(const std::vector<double>& score, const std::vector<int>& label);
/// Percentile bootstrap 95 % CI of the AUC (seeded).
std::pair<double, double> aucBootstrapCi(const std::vector<double>& score, const std::vector<int>& label,
                                         int resamples, std::uint64_t seed);
/// Temperature T > 0 minimising the NLL of sigmoid(logit / T) (golden-section search on log T).
double fitTemperature(const std::vector<double>& logit, const std::vector<int>& label);
double nll(const std::vector<double>& logit, const std::vector<int>& label, double temperature);
}  // namespace multimodal::stats
