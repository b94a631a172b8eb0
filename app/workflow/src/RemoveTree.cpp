#include "workflow/RemoveTree.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

namespace workflow {
namespace {
int removeEntry(const char* path, const struct stat*, int, struct FTW*) {
  return std::remove(path) == 0 ? 0 : (errno != 0 ? errno : EIO);
}
}  // namespace

void removeTree(const std::filesystem::path& path, std::error_code& ec) {
  ec.clear();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) ec = std::error_code(errno, std::generic_category());
    return;
  }
  errno = 0;
  const int rc = ::nftw(path.c_str(), removeEntry, 32, FTW_DEPTH | FTW_PHYS);
  if (rc != 0) ec = std::error_code(rc > 0 ? rc : (errno != 0 ? errno : EIO), std::generic_category());
}

void removeTree(const std::filesystem::path& path) {
  std::error_code ec;
  removeTree(path, ec);
  if (ec) throw std::filesystem::filesystem_error("cannot remove", path, ec);
}
}  // namespace workflow
