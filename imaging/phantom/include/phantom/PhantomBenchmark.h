#pragma once
/// PhantomBenchmark: wall-clock timing of the cohort generator, for `medseek-cli bench phantom`.
///
///   auto b = phantom::PhantomBenchmark::run(/*seed=*/1);   // 100 small, 1 full, 2000 records
///   std::cout << b.summary();
///
/// Times whole generate() calls (anatomy, trees, rendering, notes, JSON); the volume work uses
/// `threads` workers (0 = hardware concurrency).
#include <cstdint>
#include <string>

namespace phantom {

struct PhantomBenchmark {
  int smallCases = 0, fullCases = 0, records = 0, threads = 0;
  double smallSeconds = 0;   ///< total wall time of the small cases
  double fullSeconds = 0;    ///< total wall time of the full cases
  double recordSeconds = 0;  ///< total wall time of generateRecord() for `records` cases

  static PhantomBenchmark run(std::uint64_t seed, int smallCases = 100, int fullCases = 1, int records = 2000,
                              int threads = 0);
  std::string summary() const;
};

}  // namespace phantom
