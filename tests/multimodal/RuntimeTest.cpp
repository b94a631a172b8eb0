#include <gtest/gtest.h>

#include "multimodal/Runtime.h"

TEST(Runtime, ReportsTheLibTorchVersionAndThreads) {
  const auto info = multimodal::runtimeInfo();
  EXPECT_FALSE(info.torchVersion.empty());
  EXPECT_GE(info.cpuThreads, 1);
}

TEST(RuntimeGpu, SeesACudaDevice) {
  const auto info = multimodal::runtimeInfo();
  EXPECT_TRUE(info.cudaAvailable);
  EXPECT_GE(info.cudaDeviceCount, 1);
}
