// The proxy thread without a device (cudaDev -1): order, drain, and the jobs left at
// destruction.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "device/cuda/cuda_proxy.h"

namespace tccl {
namespace {

TEST(CudaProxy, RunsJobsInOrderOffTheCallingThread) {
  CudaProxy proxy(-1);
  std::vector<int> order;
  std::atomic<bool> sawOtherThread{true};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 100; ++i)
    proxy.post([&, i] {
      if (std::this_thread::get_id() == caller) sawOtherThread = false;
      order.push_back(i);
    });
  proxy.drain();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_TRUE(sawOtherThread);
  EXPECT_FALSE(proxy.busy());
}

TEST(CudaProxy, PostReturnsWhileAJobRuns) {
  CudaProxy proxy(-1);
  std::atomic<bool> release{false}, started{false};
  proxy.post([&] {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(proxy.busy());
  release = true;
  proxy.drain();
  EXPECT_FALSE(proxy.busy());
}

TEST(CudaProxy, DestructorRunsQueuedJobs) {
  std::atomic<int> ran{0};
  {
    CudaProxy proxy(-1);
    for (int i = 0; i < 10; ++i)
      proxy.post([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++ran;
      });
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace tccl
