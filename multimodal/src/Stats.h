#pragma once
// Small statistics and threading helpers shared by training and evaluation (private).
#include <cstdint>
#include <functional>
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

namespace multimodal::internal {
/// Runs body(i) for every i in [begin, end) on `threads` CPU threads (each takes the next index). The
/// first exception stops the remaining indices and is rethrown here once every thread has returned.
void parallelIndices(int begin, int end, int threads, const std::function<void(int)>& body);
}  // namespace multimodal::internal
