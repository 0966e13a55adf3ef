// Stream semantics: a launch returns before the GPU work, the internal stream waits for the
// user's prior work, the user's stream waits for the result; two ranks of one process that
// share a user stream in one group do not deadlock.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "common/forked_ranks.h"
#include "cuda/cuda_test_util.h"
#include "cuda/ring_harness.h"

namespace tccl::test {
namespace {

// Busy-waits about `ns` nanoseconds, then fills buf (when given) with `value`.
__global__ void spinThenFill(float* buf, size_t n, float value, long long ns) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    const long long until = clock64() + ns;  // cycles ~ ns at >= 1 GHz: long enough
    while (clock64() < until) {
    }
  }
  __syncthreads();
  if (!buf) return;
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    buf[i] = value;
}

TEST(CudaStreamOrder, LaunchReturnsAtOnceAndStreamsAreOrdered) {
  TCCL_REQUIRE_CUDA();
  std::unique_ptr<CudaBackend> dev;
  ASSERT_EQ(CudaBackend::create(0, &dev), ncclSuccess) << lastThreadError();
  CudaProxy proxy(0);
  cudaStream_t user = nullptr;
  ASSERT_EQ(cudaStreamCreate(&user), cudaSuccess);
  const size_t n = 1 << 20;
  DeviceMemory in, out;
  ASSERT_EQ(allocDevice(n * 4, &in), cudaSuccess);
  ASSERT_EQ(allocDevice(n * 4, &out), cudaSuccess);
  ASSERT_EQ(cudaMemset(in.get(), 0, n * 4), cudaSuccess);
  ASSERT_EQ(cudaMemset(out.get(), 0, n * 4), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);

  // The user's input arrives late; our work is slow as well.
  spinThenFill<<<64, 256, 0, user>>>(static_cast<float*>(in.get()), n, 1.0f, 300'000'000LL);
  std::atomic<ncclResult_t> asyncErr{ncclSuccess};
  CudaGroupLaunch group;
  group.add(
      *dev, proxy, {user},
      [&]() -> ncclResult_t {
        spinThenFill<<<1, 32, 0, dev->stream()>>>(nullptr, 0, 0, 200'000'000LL);
        DataStep step{in.get(), nullptr, out.get(), nullptr, n, false, false};
        ReduceSpec spec;
        return dev->run(spec, step);
      },
      [&](ncclResult_t r) { asyncErr = r; });
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(group.launch(), ncclSuccess) << lastThreadError();
  const double launchSec =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<float> host(n, -1.0f);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), out.get(), n * 4, cudaMemcpyDeviceToHost, user),
            cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(user), cudaSuccess);
  proxy.drain();
  EXPECT_EQ(asyncErr.load(), ncclSuccess);
  EXPECT_LT(launchSec, 0.05) << "the launch waited for the GPU";
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(host[i], 1.0f) << "element " << i;
  cudaStreamDestroy(user);
}

// Two ranks of this process on GPU 0 (p2p in one process: no IPC, the raw pointer) share one
// user stream and launch in one group: each rank's input must reach the other before either
// stream waits.
TEST(CudaStreamOrder, TwoRanksShareAStreamInOneGroup) {
  TCCL_REQUIRE_CUDA();
  ncclUniqueId id;
  ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess);
  RingRank ranks[2];
  Hop hop;
  hop.kind = HopKind::kP2pWrite;
  std::thread peer([&] { (void)ringBootstrap(id, 1, 2, &ranks[1]); });
  ASSERT_EQ(ringBootstrap(id, 0, 2, &ranks[0]), ncclSuccess) << lastThreadError();
  peer.join();
  ASSERT_TRUE(ranks[1].bootstrap) << "rank 1 bootstrap failed";
  for (auto& r : ranks)
    ASSERT_EQ(ringConnectSend(&r, 0, hop, 128 << 10, 4), ncclSuccess) << lastThreadError();
  for (auto& r : ranks) ASSERT_EQ(ringConnectRecv(&r, hop, 4), ncclSuccess) << lastThreadError();
  for (auto& r : ranks) ASSERT_EQ(ringAwaitReceiver(&r, hop, 4), ncclSuccess) << lastThreadError();

  cudaStream_t user = nullptr;
  ASSERT_EQ(cudaStreamCreate(&user), cudaSuccess);
  const size_t n = (1 << 20) + 3;
  std::vector<DeviceMemory> in(2), out(2);
  CudaGroupLaunch group;
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(allocDevice(n * 4, &in[r]), cudaSuccess);
    ASSERT_EQ(allocDevice(n * 4, &out[r]), cudaSuccess);
    spinThenFill<<<64, 256, 0, user>>>(static_cast<float*>(in[r].get()), n, r + 1.0f, 50'000'000LL);
    ReduceSpec spec;
    addRingColl(ranks[r], CollArgs{CollKind::kAllReduce, in[r].get(), out[r].get(), n, 0}, spec,
                user, &group);
  }
  ASSERT_EQ(group.launch(), ncclSuccess) << lastThreadError();
  std::vector<float> host(n);
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(cudaMemcpyAsync(host.data(), out[r].get(), n * 4, cudaMemcpyDeviceToHost, user),
              cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(user), cudaSuccess);
    EXPECT_EQ(ranks[r].asyncError.load(), ncclSuccess);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(host[i], 3.0f) << "rank " << r << " element " << i;
  }
  cudaStreamDestroy(user);
}

}  // namespace
}  // namespace tccl::test
