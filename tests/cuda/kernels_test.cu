// The data-step kernels against the host backend (hostReduceCopy), bit for bit: every
// datatype, every op, PreMulSum with a host and a device scalar, integer Avg's division,
// copies by kernel and copy engine, aligned and misaligned buffers, odd and large sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/datatype.h"
#include "base/error.h"
#include "cuda/cuda_test_util.h"
#include "device/cuda/cuda_backend.h"
#include "device/host/host_reduce.h"

namespace tccl {
namespace {

enum class Shape { kBoth, kLocalOnly, kReceivedOnly, kBothFinalize };

struct KernelCase {
  ncclDataType_t type;
  ReduceKind kind;
  bool deviceScalar = false;
  Shape shape = Shape::kBoth;
  size_t count = 0;
  size_t misalign = 0;  // elements
  bool copyEngine = false;
};

std::string describe(const KernelCase& c) {
  static const char* kinds[] = {"sum", "prod", "max", "min", "premulsum"};
  static const char* shapes[] = {"local+received", "local", "received", "local+received/avg"};
  return std::string(dataTypeName(c.type)) + " " + kinds[static_cast<int>(c.kind)] +
         (c.deviceScalar ? "(device scalar)" : "") + " " + shapes[static_cast<int>(c.shape)] +
         " count=" + std::to_string(c.count) + " misalign=" + std::to_string(c.misalign) +
         (c.copyEngine ? " ce" : "");
}

bool isFloat32or64(ncclDataType_t t) {
  return t == ncclFloat32 || t == ncclFloat64;
}

bool sameElement(ncclDataType_t t, const char* a, const char* b) {
  const size_t es = dataTypeSize(t);
  if (memcmp(a, b, es) == 0) return true;
  // fp32/fp64 results are not re-encoded: a NaN's payload is the hardware's choice.
  if (t == ncclFloat32) {
    float x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return std::isnan(x) && std::isnan(y);
  }
  if (t == ncclFloat64) {
    double x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return std::isnan(x) && std::isnan(y);
  }
  return false;
}

// Random bytes, except fp32/fp64 where random bits would be mostly huge or NaN: values in
// a range where sums and products stay interesting (overflow still occurs for fp8/fp16).
std::vector<char> randomData(ncclDataType_t t, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<char> v(count * dataTypeSize(t));
  if (isFloat32or64(t)) {
    std::uniform_real_distribution<double> d(-1000, 1000);
    for (size_t i = 0; i < count; ++i) {
      double x = d(rng);
      if (t == ncclFloat32) {
        float f = static_cast<float>(x);
        memcpy(&v[i * 4], &f, 4);
      } else {
        memcpy(&v[i * 8], &x, 8);
      }
    }
  } else {
    for (char& c : v) c = static_cast<char>(rng());
  }
  return v;
}

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    TCCL_REQUIRE_CUDA();
    ASSERT_EQ(CudaBackend::create(0, &backend_), ncclSuccess) << lastThreadError();
  }

  void check(const KernelCase& c) {
    SCOPED_TRACE(describe(c));
    const size_t es = dataTypeSize(c.type);
    const size_t bytes = c.count * es, off = c.misalign * es, alloc = bytes + off + 64;
    const auto a = randomData(c.type, c.count, 1), b = randomData(c.type, c.count, 2);
    std::vector<char> scalarBytes(8, 0);
    // A scalar of the element type: 0.75 for floating types, 3 for integers.
    if (isFloatingType(c.type)) {
      double s = 0.75;
      if (c.type == ncclFloat64)
        memcpy(scalarBytes.data(), &s, 8);
      else if (c.type == ncclFloat32) {
        float f = 0.75f;
        memcpy(scalarBytes.data(), &f, 4);
      } else if (c.type == ncclFloat16) {
        uint16_t h = floatToHalf(0.75f);
        memcpy(scalarBytes.data(), &h, 2);
      } else if (c.type == ncclBfloat16) {
        uint16_t h = floatToBf16(0.75f);
        memcpy(scalarBytes.data(), &h, 2);
      } else if (c.type == ncclFloat8e4m3)
        scalarBytes[0] = static_cast<char>(floatToFp8e4m3(0.75f));
      else
        scalarBytes[0] = static_cast<char>(floatToFp8e5m2(0.75f));
    } else {
      scalarBytes[0] = 3;  // little-endian 3 in every integer width
    }
    ReduceSpec spec;
    spec.type = c.type;
    spec.kind = c.kind;
    spec.scalar = isFloatingType(c.type) ? 0.75 : 3.0;
    spec.divisor = c.shape == Shape::kBothFinalize ? 3 : 1;
    const bool scale = c.kind == ReduceKind::kPreMulSum;

    DataStep hostStep;
    std::vector<char> ref0(bytes, 0x5a), ref1(bytes, 0x5a);
    hostStep.local = c.shape == Shape::kReceivedOnly ? nullptr : a.data();
    hostStep.received = c.shape == Shape::kLocalOnly ? nullptr : b.data();
    hostStep.out0 = ref0.data();
    hostStep.out1 = ref1.data();
    hostStep.count = c.count;
    hostStep.scaleLocal = scale;
    hostStep.finalize = c.shape == Shape::kBothFinalize;
    ReduceSpec hostSpec = spec;
    if (c.deviceScalar) hostSpec.scalarPtr = scalarBytes.data();
    ASSERT_EQ(hostReduceCopy(hostSpec, hostStep), ncclSuccess);

    DeviceMemory da, db, d0, d1, ds;
    ASSERT_EQ(allocDevice(alloc, &da), cudaSuccess);
    ASSERT_EQ(allocDevice(alloc, &db), cudaSuccess);
    ASSERT_EQ(allocDevice(alloc, &d0), cudaSuccess);
    ASSERT_EQ(allocDevice(alloc, &d1), cudaSuccess);
    ASSERT_EQ(allocDevice(8, &ds), cudaSuccess);
    auto at = [off](const DeviceMemory& m) { return static_cast<char*>(m.get()) + off; };
    ASSERT_EQ(cudaMemcpy(at(da), a.data(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(at(db), b.data(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaMemset(d0.get(), 0x5a, alloc), cudaSuccess);
    ASSERT_EQ(cudaMemset(d1.get(), 0x5a, alloc), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(ds.get(), scalarBytes.data(), 8, cudaMemcpyHostToDevice), cudaSuccess);
    DataStep step = hostStep;
    step.local = hostStep.local ? at(da) : nullptr;
    step.received = hostStep.received ? at(db) : nullptr;
    step.out0 = at(d0);
    step.out1 = at(d1);
    if (c.deviceScalar) spec.scalarPtr = ds.get();
    ASSERT_EQ(backend_->runStep(spec, step, c.copyEngine), ncclSuccess) << lastThreadError();
    ASSERT_EQ(backend_->synchronize(), ncclSuccess) << lastThreadError();
    std::vector<char> got0(bytes), got1(bytes);
    ASSERT_EQ(cudaMemcpy(got0.data(), at(d0), bytes, cudaMemcpyDeviceToHost), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(got1.data(), at(d1), bytes, cudaMemcpyDeviceToHost), cudaSuccess);
    for (size_t i = 0; i < c.count; ++i) {
      ASSERT_TRUE(sameElement(c.type, &got0[i * es], &ref0[i * es])) << "out0 element " << i;
      ASSERT_TRUE(sameElement(c.type, &got1[i * es], &ref1[i * es])) << "out1 element " << i;
    }
    // Nothing written past the end.
    char tail[16];
    ASSERT_EQ(cudaMemcpy(tail, at(d0) + bytes, sizeof(tail), cudaMemcpyDeviceToHost), cudaSuccess);
    for (char t : tail) ASSERT_EQ(t, 0x5a);
  }

  std::unique_ptr<CudaBackend> backend_;
};

TEST_F(CudaKernels, EveryTypeAndOpMatchesHost) {
  for (int t = 0; t < ncclNumTypes; ++t)
    for (ReduceKind kind : {ReduceKind::kSum, ReduceKind::kProd, ReduceKind::kMax, ReduceKind::kMin,
                            ReduceKind::kPreMulSum})
      for (size_t count : {size_t{1}, size_t{31}, size_t{4099}, (size_t{1} << 20) + 5})
        for (size_t mis : {size_t{0}, size_t{1}}) {
          check({.type = static_cast<ncclDataType_t>(t),
                 .kind = kind,
                 .shape = Shape::kBoth,
                 .count = count,
                 .misalign = mis});
          if (HasFatalFailure()) return;
        }
}

TEST_F(CudaKernels, PreMulSumScalesLocalOnly) {
  for (int t = 0; t < ncclNumTypes; ++t)
    for (bool dev : {false, true})
      for (Shape s : {Shape::kBoth, Shape::kLocalOnly, Shape::kReceivedOnly}) {
        check({.type = static_cast<ncclDataType_t>(t),
               .kind = ReduceKind::kPreMulSum,
               .deviceScalar = dev,
               .shape = s,
               .count = 10007});
        if (HasFatalFailure()) return;
      }
}

TEST_F(CudaKernels, IntegerAvgDivides) {
  for (ncclDataType_t t : {ncclInt8, ncclUint8, ncclInt32, ncclUint32, ncclInt64, ncclUint64}) {
    check({.type = t, .kind = ReduceKind::kSum, .shape = Shape::kBothFinalize, .count = 70001});
    if (HasFatalFailure()) return;
  }
}

TEST_F(CudaKernels, CopiesByKernelAndCopyEngine) {
  for (ncclDataType_t t : {ncclUint8, ncclFloat16, ncclFloat32, ncclFloat64})
    for (Shape s : {Shape::kLocalOnly, Shape::kReceivedOnly})
      for (size_t mis : {size_t{0}, size_t{3}})
        for (bool ce : {false, true}) {
          check({.type = t,
                 .kind = ReduceKind::kSum,
                 .shape = s,
                 .count = (size_t{1} << 20) + 9,
                 .misalign = mis,
                 .copyEngine = ce});
          if (HasFatalFailure()) return;
        }
}

TEST_F(CudaKernels, ZeroCountIsANoOp) {
  ReduceSpec spec;
  DataStep step;
  EXPECT_EQ(backend_->run(spec, step), ncclSuccess);
  EXPECT_EQ(backend_->synchronize(), ncclSuccess);
}

// (A faulting kernel would poison the context for the rest of this process, so the error
// path is checked with an argument the backend rejects before any launch.)
TEST_F(CudaKernels, InvalidDatatypeIsAnError) {
  ReduceSpec spec;
  spec.type = static_cast<ncclDataType_t>(ncclNumTypes);
  DataStep step;
  step.count = 4;
  EXPECT_EQ(backend_->run(spec, step), ncclInvalidArgument);
}

}  // namespace
}  // namespace tccl
