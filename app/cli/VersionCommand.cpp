#include <iostream>

#include "Commands.h"
#include "app/Version.h"
#include "multimodal/Runtime.h"

namespace cli {
void addVersionCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("version", "Print version, LibTorch build and compute device");
  cmd->callback([&ctx] {
    const auto rt = multimodal::runtimeInfo();
    std::cout << "medseek-cli " << app::kVersion << "\n"
              << "libtorch " << rt.torchVersion << "\n"
              << "device " << (rt.cudaAvailable ? "cuda" : "cpu") << " (" << rt.cudaDeviceCount
              << " CUDA device(s), " << rt.cpuThreads << " CPU thread(s))\n";
    ctx.exitCode = 0;
  });
}
}  // namespace cli
