// Shared by medseek-cli's `bench load` and medseek-loadbench.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "LoadBench.h"

namespace cli {

void addBenchRunOptions(CLI::App& cmd, BenchRunArgs& args, const std::string& folderHelp) {
  cmd.add_option("folder", args.dir, folderHelp)->required();
  cmd.add_option("--repeat", args.repeat, "Timed runs (median reported)")->check(CLI::Range(1, 100));
  cmd.add_option("--threads", args.threads, "Our threads (0: all cores)")->check(CLI::Range(0, 256));
  cmd.add_flag("--cold", args.cold,
               "Evict the folder's files from the page cache (fdatasync + POSIX_FADV_DONTNEED) before every "
               "timed run, so each run reads them from disk");
  cmd.add_flag("--json", args.json, "Print one JSON object");
}

std::vector<std::string> loaderBenchArguments(const BenchRunArgs& args) {
  std::vector<std::string> out{"--repeat", std::to_string(args.repeat), "--threads",
                               std::to_string(args.threads)};
  if (args.cold) out.push_back("--cold");
  if (args.json) out.push_back("--json");
  out.insert(out.end(), {"--", args.dir});  // a folder name may start with '-'
  return out;
}

void evictFromPageCache(const std::string& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

double processCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double medianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace cli
