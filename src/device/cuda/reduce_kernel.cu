#include <array>
#include <cstdint>
#include <type_traits>

#include "base/datatype.h"
#include "device/cuda/element_codec.h"
#include "device/cuda/reduce_kernel.h"

namespace tccl {
namespace {

constexpr int kThreads = 512;

// Storage type -> compute type and the exact conversions of base/datatype.h.
template <typename T>
struct DevTraits {
  using Compute = T;
  __device__ static T load(T v) { return v; }
  __device__ static T store(T v) { return v; }
};
template <>
struct DevTraits<Half> {
  using Compute = float;
  __device__ static float load(Half v) { return codec::halfToFloat(v.bits); }
  __device__ static Half store(float v) { return {codec::floatToHalf(v)}; }
};
template <>
struct DevTraits<BFloat16> {
  using Compute = float;
  __device__ static float load(BFloat16 v) { return codec::bf16ToFloat(v.bits); }
  __device__ static BFloat16 store(float v) { return {codec::floatToBf16(v)}; }
};
template <>
struct DevTraits<Fp8E4M3> {
  using Compute = float;
  __device__ static float load(Fp8E4M3 v) { return codec::e4m3ToFloat(v.bits); }
  __device__ static Fp8E4M3 store(float v) { return {codec::floatToE4m3(v)}; }
};
template <>
struct DevTraits<Fp8E5M2> {
  using Compute = float;
  __device__ static float load(Fp8E5M2 v) { return codec::e5m2ToFloat(v.bits); }
  __device__ static Fp8E5M2 store(float v) { return {codec::floatToE5m2(v)}; }
};

// Rounded operations that the compiler may not fuse into an FMA (the host never does), and
// wrapping integer arithmetic (the host's narrow types promote to int and wrap on the cast).
template <typename C>
__device__ C addOf(C a, C b) {
  if constexpr (std::is_same_v<C, float>)
    return __fadd_rn(a, b);
  else if constexpr (std::is_same_v<C, double>)
    return __dadd_rn(a, b);
  else {
    using U = std::make_unsigned_t<C>;
    return static_cast<C>(static_cast<U>(a) + static_cast<U>(b));
  }
}
template <typename C>
__device__ C mulOf(C a, C b) {
  if constexpr (std::is_same_v<C, float>)
    return __fmul_rn(a, b);
  else if constexpr (std::is_same_v<C, double>)
    return __dmul_rn(a, b);
  else {
    using U = std::make_unsigned_t<C>;
    return static_cast<C>(static_cast<U>(a) * static_cast<U>(b));
  }
}
template <typename C>
__device__ C divOf(C a, C b) {
  if constexpr (std::is_same_v<C, float>)
    return __fdiv_rn(a, b);
  else if constexpr (std::is_same_v<C, double>)
    return __ddiv_rn(a, b);
  else
    return static_cast<C>(a / b);
}

// The same comparisons as std::max / std::min, so NaN operands behave as on the host.
struct OpSum {
  template <typename C>
  __device__ static C apply(C a, C b) {
    return addOf(a, b);
  }
};
struct OpProd {
  template <typename C>
  __device__ static C apply(C a, C b) {
    return mulOf(a, b);
  }
};
struct OpMax {
  template <typename C>
  __device__ static C apply(C a, C b) {
    return a < b ? b : a;
  }
};
struct OpMin {
  template <typename C>
  __device__ static C apply(C a, C b) {
    return b < a ? b : a;
  }
};

struct StepArgs {
  const void* a;
  const void* b;
  void* o0;
  void* o1;
  size_t count;
  double scalar;
  const void* scalarPtr;  // device scalar of the element type, read when the kernel runs
  int divisor;
  bool scaleA;
  bool divide;
};

template <typename T, class Op>
struct Combiner {
  using Tr = DevTraits<T>;
  using C = typename Tr::Compute;
  bool hasA, hasB, scaleA, divide;
  C scale, divisor;

  __device__ T operator()(T va, T vb) const {
    C v;
    if (hasA && hasB) {
      C x = Tr::load(va);
      if (scaleA) x = mulOf(x, scale);
      v = Op::apply(x, Tr::load(vb));
    } else {
      v = Tr::load(hasA ? va : vb);
      if (hasA && scaleA) v = mulOf(v, scale);
    }
    if (divide) v = divOf(v, divisor);
    return Tr::store(v);
  }
};

template <typename T>
union Pack {
  static constexpr int kElems = 16 / sizeof(T);
  uint4 v;
  T e[kElems];
};

// One grid-stride pass; with kVec every pointer is 16-byte aligned and whole 16-byte packs
// go through one load/store each, the tail element by element.
template <typename T, class Op, bool kVec>
__global__ void __launch_bounds__(kThreads) reduceKernel(StepArgs args) {
  using C = typename DevTraits<T>::Compute;
  Combiner<T, Op> f;
  f.hasA = args.a != nullptr;
  f.hasB = args.b != nullptr;
  f.scaleA = args.scaleA;
  f.divide = args.divide;
  f.scale = args.scalarPtr ? DevTraits<T>::load(*static_cast<const T*>(args.scalarPtr))
                           : static_cast<C>(args.scalar);
  f.divisor = static_cast<C>(args.divisor);
  const T* a = static_cast<const T*>(args.a);
  const T* b = static_cast<const T*>(args.b);
  T* o0 = static_cast<T*>(args.o0);
  T* o1 = static_cast<T*>(args.o1);
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  size_t first = 0;
  if constexpr (kVec) {
    constexpr int N = Pack<T>::kElems;
    const size_t packs = args.count / N;
    for (size_t p = tid; p < packs; p += stride) {
      Pack<T> pa, pb, po;
      if (a) pa.v = reinterpret_cast<const uint4*>(a)[p];
      if (b) pb.v = reinterpret_cast<const uint4*>(b)[p];
#pragma unroll
      for (int k = 0; k < N; ++k) po.e[k] = f(pa.e[k], pb.e[k]);
      if (o0) reinterpret_cast<uint4*>(o0)[p] = po.v;
      if (o1) reinterpret_cast<uint4*>(o1)[p] = po.v;
    }
    first = packs * N;
  }
  for (size_t i = first + tid; i < args.count; i += stride) {
    const T r = f(a ? a[i] : T{}, b ? b[i] : T{});
    if (o0) o0[i] = r;
    if (o1) o1[i] = r;
  }
}

template <bool kVec>
__global__ void __launch_bounds__(kThreads)
    copyKernel(const char* src, char* dst0, char* dst1, size_t bytes) {
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  size_t first = 0;
  if constexpr (kVec) {
    const size_t packs = bytes / 16;
    for (size_t p = tid; p < packs; p += stride) {
      const uint4 v = reinterpret_cast<const uint4*>(src)[p];
      if (dst0) reinterpret_cast<uint4*>(dst0)[p] = v;
      if (dst1) reinterpret_cast<uint4*>(dst1)[p] = v;
    }
    first = packs * 16;
  }
  for (size_t i = first + tid; i < bytes; i += stride) {
    const char c = src[i];
    if (dst0) dst0[i] = c;
    if (dst1) dst1[i] = c;
  }
}

bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15) == 0;
}

unsigned gridFor(size_t units, const LaunchShape& shape) {
  const size_t blocks = (units + kThreads - 1) / kThreads;
  const size_t cap = shape.maxBlocks > 0 ? static_cast<size_t>(shape.maxBlocks) : 1;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > cap ? cap : blocks);
}

using Launcher = void (*)(const StepArgs&, const LaunchShape&, cudaStream_t);

template <typename T, class Op>
void launchReduce(const StepArgs& args, const LaunchShape& shape, cudaStream_t stream) {
  const bool vec =
      aligned16(args.a) && aligned16(args.b) && aligned16(args.o0) && aligned16(args.o1);
  if (vec) {
    const size_t units = args.count / Pack<T>::kElems + args.count % Pack<T>::kElems;
    reduceKernel<T, Op, true><<<gridFor(units, shape), kThreads, 0, stream>>>(args);
  } else {
    reduceKernel<T, Op, false><<<gridFor(args.count, shape), kThreads, 0, stream>>>(args);
  }
}

template <typename T>
constexpr std::array<Launcher, 5> opsFor() {
  // PreMulSum is a Sum whose local input is scaled.
  return {launchReduce<T, OpSum>, launchReduce<T, OpProd>, launchReduce<T, OpMax>,
          launchReduce<T, OpMin>, launchReduce<T, OpSum>};
}

// Indexed by ncclDataType_t, in nccl.h's order (as the host backend's table).
constexpr std::array<std::array<Launcher, 5>, ncclNumTypes> kLaunchTable = {
    opsFor<int8_t>(),  opsFor<uint8_t>(),  opsFor<int32_t>(), opsFor<uint32_t>(),
    opsFor<int64_t>(), opsFor<uint64_t>(), opsFor<Half>(),    opsFor<float>(),
    opsFor<double>(),  opsFor<BFloat16>(), opsFor<Fp8E4M3>(), opsFor<Fp8E5M2>(),
};

}  // namespace

cudaError_t launchCopyKernel(void* dst0, void* dst1, const void* src, size_t bytes,
                             const LaunchShape& shape, cudaStream_t stream) {
  if (bytes == 0 || (!dst0 && !dst1)) return cudaSuccess;
  auto* s = static_cast<const char*>(src);
  auto* d0 = static_cast<char*>(dst0);
  auto* d1 = static_cast<char*>(dst1);
  if (aligned16(src) && aligned16(dst0) && aligned16(dst1))
    copyKernel<true>
        <<<gridFor(bytes / 16 + bytes % 16, shape), kThreads, 0, stream>>>(s, d0, d1, bytes);
  else
    copyKernel<false><<<gridFor(bytes, shape), kThreads, 0, stream>>>(s, d0, d1, bytes);
  return cudaGetLastError();
}

cudaError_t launchDataStep(const ReduceSpec& spec, const DataStep& step, bool copyEngine,
                           const LaunchShape& shape, cudaStream_t stream) {
  if (step.count == 0) return cudaSuccess;
  if (spec.type < 0 || spec.type >= ncclNumTypes) return cudaErrorInvalidValue;
  if (isPureCopy(spec, step)) {
    const void* src = step.local ? step.local : step.received;
    const size_t bytes = step.count * dataTypeSize(spec.type);
    // Writing a buffer onto itself (in place) is skipped, as on the host.
    void* d0 = step.out0 != src ? step.out0 : nullptr;
    void* d1 = step.out1 != src ? step.out1 : nullptr;
    if (!copyEngine) return launchCopyKernel(d0, d1, src, bytes, shape, stream);
    for (void* d : {d0, d1}) {
      if (!d) continue;
      cudaError_t e = cudaMemcpyAsync(d, src, bytes, cudaMemcpyDefault, stream);
      if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
  }
  StepArgs args{
      step.local,  step.received, step.out0,    step.out1,       step.count,
      spec.scalar, nullptr,       spec.divisor, step.scaleLocal, step.finalize && spec.divisor > 1};
  if (spec.kind == ReduceKind::kPreMulSum) args.scalarPtr = spec.scalarPtr;
  kLaunchTable[spec.type][static_cast<int>(spec.kind)](args, shape, stream);
  return cudaGetLastError();
}

}  // namespace tccl
