#include "device/host/host_reduce.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/datatype.h"
#include "base/error.h"

namespace tccl {
namespace {

template <typename C>
struct OpSum {
  static C apply(C a, C b) { return a + b; }
};
template <typename C>
struct OpProd {
  static C apply(C a, C b) { return a * b; }
};
template <typename C>
struct OpMax {
  static C apply(C a, C b) { return std::max(a, b); }
};
template <typename C>
struct OpMin {
  static C apply(C a, C b) { return std::min(a, b); }
};

// The hot loop: both inputs present. Branches are template parameters so that the common
// cases (plain sum into one or two outputs) compile to straight vector code.
template <typename T, template <typename> class Op, bool kScale, bool kDivide, bool kOut0,
          bool kOut1>
void combineBoth(const T* a, const T* b, T* o0, T* o1, size_t n,
                 typename ElementTraits<T>::Compute scale,
                 typename ElementTraits<T>::Compute divisor) {
  using Traits = ElementTraits<T>;
  using C = typename Traits::Compute;
  for (size_t i = 0; i < n; ++i) {
    C x = Traits::load(a[i]);
    if constexpr (kScale) x = static_cast<C>(x * scale);
    C v = static_cast<C>(Op<C>::apply(x, Traits::load(b[i])));
    if constexpr (kDivide) v = static_cast<C>(v / divisor);
    const T t = Traits::store(v);
    if constexpr (kOut0) o0[i] = t;
    if constexpr (kOut1) o1[i] = t;
  }
}

template <typename T, template <typename> class Op, bool kScale, bool kDivide>
void combineBothOuts(const T* a, const T* b, T* o0, T* o1, size_t n,
                     typename ElementTraits<T>::Compute scale,
                     typename ElementTraits<T>::Compute divisor) {
  if (o0 && o1)
    combineBoth<T, Op, kScale, kDivide, true, true>(a, b, o0, o1, n, scale, divisor);
  else if (o0)
    combineBoth<T, Op, kScale, kDivide, true, false>(a, b, o0, o1, n, scale, divisor);
  else if (o1)
    combineBoth<T, Op, kScale, kDivide, false, true>(a, b, o0, o1, n, scale, divisor);
}

// Integer multiplication promotes narrow types to int; results are cast back to the type.
template <typename T, template <typename> class Op>
void combine(const ReduceSpec& spec, const DataStep& s) {
  using Traits = ElementTraits<T>;
  using C = typename Traits::Compute;
  const T* a = static_cast<const T*>(s.local);
  const T* b = static_cast<const T*>(s.received);
  T* o0 = static_cast<T*>(s.out0);
  T* o1 = static_cast<T*>(s.out1);
  const C scale = static_cast<C>(spec.scalar);
  const bool scaleA = s.scaleLocal && spec.kind == ReduceKind::kPreMulSum;
  const bool divide = s.finalize && spec.divisor > 1;
  const C divisor = static_cast<C>(spec.divisor);
  if (a && b) {
    if (scaleA && divide)
      combineBothOuts<T, Op, true, true>(a, b, o0, o1, s.count, scale, divisor);
    else if (scaleA)
      combineBothOuts<T, Op, true, false>(a, b, o0, o1, s.count, scale, divisor);
    else if (divide)
      combineBothOuts<T, Op, false, true>(a, b, o0, o1, s.count, scale, divisor);
    else
      combineBothOuts<T, Op, false, false>(a, b, o0, o1, s.count, scale, divisor);
    return;
  }
  // One input with a transform (the first step of a PreMulSum, or a single rank).
  const T* in = a ? a : b;
  for (size_t i = 0; i < s.count; ++i) {
    C v = Traits::load(in[i]);
    if (a && scaleA) v = static_cast<C>(v * scale);
    if (divide) v = static_cast<C>(v / divisor);
    const T t = Traits::store(v);
    if (o0) o0[i] = t;
    if (o1) o1[i] = t;
  }
}

using CombineFn = void (*)(const ReduceSpec&, const DataStep&);

template <typename T>
constexpr std::array<CombineFn, 5> opsFor() {
  // PreMulSum is a Sum whose local input is scaled.
  return {combine<T, OpSum>, combine<T, OpProd>, combine<T, OpMax>, combine<T, OpMin>,
          combine<T, OpSum>};
}

constexpr std::array<std::array<CombineFn, 5>, ncclNumTypes> kCombineTable = {
    opsFor<int8_t>(),  opsFor<uint8_t>(),  opsFor<int32_t>(), opsFor<uint32_t>(),
    opsFor<int64_t>(), opsFor<uint64_t>(), opsFor<Half>(),    opsFor<float>(),
    opsFor<double>(),  opsFor<BFloat16>(), opsFor<Fp8E4M3>(), opsFor<Fp8E5M2>(),
};

}  // namespace

ncclResult_t hostReduceCopy(const ReduceSpec& spec, const DataStep& step) {
  if (step.count == 0) return ncclSuccess;
  const size_t bytes = step.count * dataTypeSize(spec.type);
  const bool scales = step.scaleLocal && spec.kind == ReduceKind::kPreMulSum;
  const bool pureCopy = !(step.local && step.received) && !(step.local && scales) &&
                        !(step.finalize && spec.divisor > 1);
  if (pureCopy) {
    const void* src = step.local ? step.local : step.received;
    if (step.out0 && step.out0 != src) memcpy(step.out0, src, bytes);
    if (step.out1 && step.out1 != src) memcpy(step.out1, src, bytes);
    return ncclSuccess;
  }
  if (spec.type < 0 || spec.type >= ncclNumTypes)
    return setError(ncclInvalidArgument, "invalid datatype %d", spec.type);
  ReduceSpec effective = spec;
  if (spec.kind == ReduceKind::kPreMulSum && spec.scalarPtr) {
    // A device-resident scalar is read when the operation runs, not when the op was created.
    switch (spec.type) {
      case ncclFloat16:
        effective.scalar = halfToFloat(*static_cast<const uint16_t*>(spec.scalarPtr));
        break;
      case ncclBfloat16:
        effective.scalar = bf16ToFloat(*static_cast<const uint16_t*>(spec.scalarPtr));
        break;
      case ncclFloat8e4m3:
        effective.scalar = fp8e4m3ToFloat(*static_cast<const uint8_t*>(spec.scalarPtr));
        break;
      case ncclFloat8e5m2:
        effective.scalar = fp8e5m2ToFloat(*static_cast<const uint8_t*>(spec.scalarPtr));
        break;
      case ncclFloat32:
        effective.scalar = *static_cast<const float*>(spec.scalarPtr);
        break;
      case ncclFloat64:
        effective.scalar = *static_cast<const double*>(spec.scalarPtr);
        break;
      case ncclInt8:
        effective.scalar = *static_cast<const int8_t*>(spec.scalarPtr);
        break;
      case ncclUint8:
        effective.scalar = *static_cast<const uint8_t*>(spec.scalarPtr);
        break;
      case ncclInt32:
        effective.scalar = *static_cast<const int32_t*>(spec.scalarPtr);
        break;
      case ncclUint32:
        effective.scalar = *static_cast<const uint32_t*>(spec.scalarPtr);
        break;
      case ncclInt64:
        effective.scalar = static_cast<double>(*static_cast<const int64_t*>(spec.scalarPtr));
        break;
      case ncclUint64:
        effective.scalar = static_cast<double>(*static_cast<const uint64_t*>(spec.scalarPtr));
        break;
      default:
        break;
    }
  }
  kCombineTable[spec.type][static_cast<int>(spec.kind)](effective, step);
  return ncclSuccess;
}

}  // namespace tccl
