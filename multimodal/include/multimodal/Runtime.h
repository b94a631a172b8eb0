#pragma once
/// Runtime: what LibTorch build the model runs on (version, CUDA availability). Keeps <torch/...> out of
/// callers' headers.
#include <string>

namespace multimodal {
struct RuntimeInfo {
  std::string torchVersion;
  bool cudaAvailable = false;
  int cudaDeviceCount = 0;
  int cpuThreads = 0;
};
RuntimeInfo runtimeInfo();
}  // namespace multimodal
