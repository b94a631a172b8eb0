#include "multimodal/Runtime.h"

#include <torch/torch.h>

namespace multimodal {
RuntimeInfo runtimeInfo() {
  RuntimeInfo info;
  info.torchVersion = TORCH_VERSION;
  info.cudaAvailable = torch::cuda::is_available();
  info.cudaDeviceCount = static_cast<int>(torch::cuda::device_count());
  info.cpuThreads = at::get_num_threads();
  return info;
}
}  // namespace multimodal
