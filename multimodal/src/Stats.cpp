#include "Stats.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

namespace multimodal::stats {
double auc(const std::vector<double>& score, const std::vector<int>& label) {
  std::vector<std::size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
  double rankSumPos = 0;
  double nPos = 0, nNeg = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j < idx.size() && score[idx[j]] == score[idx[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2.0;  // 1-based average rank
    for (std::size_t k = i; k < j; ++k)
      if (label[idx[k]]) rankSumPos += rank;
    i = j;
  }
  for (int l : label) (l ? nPos : nNeg) += 1;
  if (nPos == 0 || nNeg == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rankSumPos - nPos * (nPos + 1) / 2.0) / (nPos * nNeg);
}

std::pair<double, double> aucBootstrapCi(const std::vector<double>& score, const std::vector<int>& label,
                                         int resamples, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, score.empty() ? 0 : score.size() - 1);
  std::vector<double> aucs;
  std::vector<double> s(score.size());
  std::vector<int> l(score.size());
  for (int r = 0; r < resamples; ++r) {
    for (std::size_t i = 0; i < score.size(); ++i) {
      const std::size_t k = pick(rng);
      s[i] = score[k];
      l[i] = label[k];
    }
    const double a = auc(s, l);
    if (std::isfinite(a)) aucs.push_back(a);
  }
  if (aucs.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  std::sort(aucs.begin(), aucs.end());
  auto q = [&](double p) { return aucs[static_cast<std::size_t>(p * static_cast<double>(aucs.size() - 1))]; };
  return {q(0.025), q(0.975)};
}

double nll(const std::vector<double>& logit, const std::vector<int>& label, double t) {
  double s = 0;
  for (std::size_t i = 0; i < logit.size(); ++i) {
    const double z = logit[i] / t;
    // log(1 + exp(-|z|)) + max(z, 0) - y z
    s += std::log1p(std::exp(-std::abs(z))) + std::max(z, 0.0) - (label[i] ? z : 0.0);
  }
  return logit.empty() ? 0 : s / static_cast<double>(logit.size());
}

double fitTemperature(const std::vector<double>& logit, const std::vector<int>& label) {
  double a = std::log(0.2), b = std::log(5.0);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  for (int it = 0; it < 80; ++it) {
    if (nll(logit, label, std::exp(c)) < nll(logit, label, std::exp(d))) b = d;
    else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return std::exp((a + b) / 2);
}
}  // namespace multimodal::stats

namespace multimodal::internal {
void parallelIndices(int begin, int end, int threads, const std::function<void(int)>& body) {
  std::atomic<int> next{begin};
  std::mutex mu;
  std::exception_ptr failure;
  std::vector<std::thread> pool;
  for (int w = 0; w < std::max(1, threads); ++w)
    pool.emplace_back([&] {
      try {
        for (int i = next++; i < end; i = next++) body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu);
        if (!failure) failure = std::current_exception();
        next = end;
      }
    });
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}
}  // namespace multimodal::internal
