#include "phantom/PhantomBenchmark.h"

#include <chrono>
#include <thread>

#include "JsonWriter.h"
#include "phantom/CohortGenerator.h"

namespace phantom {

namespace {
template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

PhantomBenchmark PhantomBenchmark::run(std::uint64_t seed, int smallCases, int fullCases, int records,
                                       int threads) {
  if (smallCases < 0 || fullCases < 0 || records < 0)
    throw PhantomError("phantom benchmark: negative case count");
  PhantomBenchmark b;
  b.smallCases = smallCases;
  b.fullCases = fullCases;
  b.records = records;
  b.threads = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  PhantomOptions small, full;
  small.threads = full.threads = threads;
  full.size = SizePreset::Full;
  const CohortGenerator gs(seed, small), gf(seed, full);
  b.smallSeconds = seconds([&] {
    for (int i = 0; i < smallCases; ++i) (void)gs.generate(i);
  });
  b.fullSeconds = seconds([&] {
    for (int i = 0; i < fullCases; ++i) (void)gf.generate(i);
  });
  b.recordSeconds = seconds([&] {
    for (int i = 0; i < records; ++i) (void)gs.generateRecord(i);
  });
  return b;
}

std::string PhantomBenchmark::summary() const {
  using detail::formatNumber;
  std::string s = "phantom generator benchmark (" + std::to_string(threads) + " threads)\n";
  if (smallCases > 0)
    s += "  small cases: " + std::to_string(smallCases) + " in " + formatNumber(smallSeconds, 3) + " s (" +
         formatNumber(smallSeconds / smallCases, 4) + " s/case)\n";
  if (fullCases > 0)
    s += "  full cases:  " + std::to_string(fullCases) + " in " + formatNumber(fullSeconds, 3) + " s (" +
         formatNumber(fullSeconds / fullCases, 3) + " s/case)\n";
  if (records > 0)
    s += "  records:     " + std::to_string(records) + " in " + formatNumber(recordSeconds, 3) + " s\n";
  return s;
}

}  // namespace phantom
