#pragma once
/// The temporary name a file is written under before it is renamed onto `path`: `path.tmp<pid>`, this
/// process's own, so that two processes writing the same path never write into one temporary file.
#include <unistd.h>

#include <string>

namespace multimodal::detail {

inline std::string temporaryPathFor(const std::string& path) { return path + ".tmp" + std::to_string(::getpid()); }

}  // namespace multimodal::detail
