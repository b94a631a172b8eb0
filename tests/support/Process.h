#pragma once
// Test helper: run a command line, capture stdout+stderr and the exit code.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace testsupport {
struct ProcessResult {
  int exitCode = -1;
  std::string output;
};

inline ProcessResult run(const std::string& commandLine) {
  ProcessResult r;
  FILE* pipe = popen((commandLine + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace testsupport
