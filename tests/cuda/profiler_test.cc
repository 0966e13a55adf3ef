// The pathfinder's cuda profiler on the GPUs of this machine (GPU 0 alone is enough: a hop
// from GPU 0 to itself is a device copy, a bounce is a D2H and an H2D leg at once).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "cuda_profiler.h"

namespace tccl::pathfinder {
namespace {

std::unique_ptr<CudaProfiler> makeProfiler() {
  std::string why;
  CudaProfilerOptions o;
  o.bytesPerCopy = 8 << 20;
  o.targetSeconds = 0.02;
  auto p = CudaProfiler::create(o, &why);
  if (!p) std::printf("cuda profiler unavailable: %s\n", why.c_str());
  return p;
}

TEST(CudaProfiler, MeasuresConcurrentTransfers) {
  auto p = makeProfiler();
  if (!p) GTEST_SKIP() << "no usable CUDA device for the cuda profiler";
  Hop write{.kind = HopKind::kP2pWrite};
  Hop bounce{.kind = HopKind::kHostBounce,
             .engine = Engine::kCopyEngine,
             .readEngine = Engine::kKernel,
             .numa = 0};
  std::vector<Transfer> ts = {{write, 0, 0}, {bounce, 0, 0}};
  std::vector<double> r = p->measure(ts);
  ASSERT_EQ(r.size(), 2u);
  for (size_t i = 0; i < r.size(); ++i) {
    std::printf("%s: %.2f GB/s\n", describeTransfer(ts[i]).c_str(), r[i]);
    EXPECT_TRUE(std::isfinite(r[i]) && r[i] > 0.1) << describeTransfer(ts[i]);
  }
  // Alone, the bounce runs at least as fast as next to a device copy of the same GPU
  // (within noise).
  std::vector<Transfer> alone = {ts[1]};
  EXPECT_GT(p->measure(alone)[0], r[1] * 0.8);
}

TEST(CudaProfiler, RejectsWhatItCannotMeasure) {
  auto p = makeProfiler();
  if (!p) GTEST_SKIP() << "no usable CUDA device for the cuda profiler";
  Hop gdr{.kind = HopKind::kNet, .nic = 0, .gpuDirect = true};
  std::vector<Transfer> nic = {{gdr, 0, -1}};
  EXPECT_THROW(p->measure(nic), std::invalid_argument);
  Hop far{.kind = HopKind::kHostBounce, .numa = 4096};
  std::vector<Transfer> noNode = {{far, 0, 0}};
  EXPECT_THROW(p->measure(noNode), std::invalid_argument);
}

}  // namespace
}  // namespace tccl::pathfinder
