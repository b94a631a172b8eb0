#pragma once
// Deterministic random numbers for the phantom: splitmix64 hashing, xoshiro256** streams and our own
// Box-Muller, so the cohort is byte-identical across standard libraries (std::normal_distribution is not).
#include <cmath>
#include <cstdint>
#include <string_view>

namespace phantom::detail {

inline constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline constexpr std::uint64_t hashString(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return h;
}

inline constexpr std::uint64_t hashCombine(std::uint64_t h, std::uint64_t v) {
  return splitmix64(h ^ (splitmix64(v) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2)));
}

/// Key of one purpose ("record", "anatomy", "noise", ...) of one case of one cohort.
inline std::uint64_t streamKey(std::uint64_t seed, int index, std::string_view purpose) {
  return hashCombine(hashCombine(hashCombine(0x4D65645365656B31ull, seed), static_cast<std::uint64_t>(index)),
                     hashString(purpose));
}

inline double uniformFromBits(std::uint64_t bits) {  // (0, 1]
  return (static_cast<double>(bits >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

inline constexpr double kPi = 3.141592653589793238463;
inline constexpr double kTwoPi = 2 * kPi;

/// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t key) {
    std::uint64_t x = key;
    for (auto& w : s_) {
      x += 0x9E3779B97F4A7C15ull;
      w = splitmix64(x);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// [0, 1)
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Inclusive range; the modulo bias is far below anything the cohort could show.
  int uniformInt(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool bernoulli(double p) { return uniform() < p; }
  double normal() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    const double u1 = uniformFromBits(next());
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(kTwoPi * u2);
    hasSpare_ = true;
    return r * std::cos(kTwoPi * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  template <class T>
  const T& pick(const T* items, int n) {
    return items[uniformInt(0, n - 1)];
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0;
  bool hasSpare_ = false;
};

/// Counter-based pair of standard normals for voxel pair `pairIndex` (parallel-safe, order-free).
inline void noisePair(std::uint64_t caseKey, std::uint64_t pairIndex, double& n0, double& n1) {
  const std::uint64_t h = splitmix64(caseKey ^ splitmix64(pairIndex * 0xD1B54A32D192ED03ull));
  const double u1 = (static_cast<double>(h >> 32) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  const double u2 = static_cast<double>(h & 0xFFFFFFFFull) * (1.0 / 4294967296.0);
  const double r = std::sqrt(-2.0 * std::log(u1));
  n0 = r * std::cos(kTwoPi * u2);
  n1 = r * std::sin(kTwoPi * u2);
}

}  // namespace phantom::detail
