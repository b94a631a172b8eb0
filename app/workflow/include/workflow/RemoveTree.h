#pragma once
/// Removing a folder tree without std::filesystem::remove_all. In a process that loads the CUDA LibTorch
/// of the PyTorch wheels, the dynamic linker binds remove_all(path, error_code&) to the copy that
/// libtorch.so exports, and that copy jumped to address 0 (seen: `medseek-cli bench screen --device cuda`
/// crashed with SIGSEGV when it removed its temporary output folder, 2026-12-06, LibTorch 2.11). These
/// use POSIX nftw and remove() only.
#include <filesystem>
#include <system_error>

namespace workflow {
/// Removes `path` and everything below it (symbolic links are removed, not followed). A missing path is
/// no error. On failure `ec` holds the first error and the walk stops there.
void removeTree(const std::filesystem::path& path, std::error_code& ec);
/// The same; throws std::filesystem::filesystem_error naming the path on failure.
void removeTree(const std::filesystem::path& path);
}  // namespace workflow
