#pragma once
// Private helpers of the imaging library (not installed, not included outside imaging/src).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace imaging::detail {

/// Runs body(index) for index in [0, count) on `threads` workers (0: hardware concurrency).
/// The first exception thrown by a body is rethrown after all workers stopped; remaining indices
/// are skipped once an exception occurred or `stop` returns true.
inline void parallelFor(std::size_t count, int threads, const std::function<void(std::size_t)>& body,
                        const std::function<bool()>& stop = {}) {
  if (count == 0) return;
  unsigned n = threads > 0 ? static_cast<unsigned>(threads) : std::thread::hardware_concurrency();
  if (n == 0) n = 2;
  if (n > count) n = static_cast<unsigned>(count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex errorMutex;
  auto worker = [&] {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const std::size_t i = next.fetch_add(1);
      if (i >= count) return;
      try {
        if (stop && stop()) {
          failed = true;
          return;
        }
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  if (n == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(n - 1);
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
}

/// Decimal string (DS) of at most 16 characters.
std::string formatDs(double value);

/// Registers the DCMTK JPEG, JPEG-LS and RLE encoders/decoders once per process.
void ensureDcmtkCodecs();

/// JPEG 2000 (lossless, reversible 5/3) codestream of one 16-bit grayscale frame (OpenJPEG).
std::vector<std::uint8_t> encodeJ2kLossless(const std::uint16_t* pixels, int columns, int rows,
                                            int bitsStored, bool isSigned);
/// Decodes a J2K/JP2 codestream of one grayscale frame into `out` (columns*rows 16-bit samples, raw
/// stored values). Throws std::runtime_error with a reason on failure or size mismatch.
void decodeJ2k(const std::uint8_t* data, std::size_t size, int columns, int rows, std::uint16_t* out);

}  // namespace imaging::detail
