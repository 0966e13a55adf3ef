// Element types of nccl.h. fp16, bf16 and fp8 are reduced in float and rounded back to
// nearest-even after every step, as NCCL does; fp8 conversions saturate to the largest
// finite value (CUDA's __NV_SATFINITE), fp16 overflows to infinity (IEEE).
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tccl {

// Inline and constexpr: the CUDA kernel library uses it without the runtime's symbols.
constexpr size_t dataTypeSize(ncclDataType_t type) {
  switch (type) {
    case ncclInt8:
    case ncclUint8:
    case ncclFloat8e4m3:
    case ncclFloat8e5m2:
      return 1;
    case ncclFloat16:
    case ncclBfloat16:
      return 2;
    case ncclInt32:
    case ncclUint32:
    case ncclFloat32:
      return 4;
    case ncclInt64:
    case ncclUint64:
    case ncclFloat64:
      return 8;
    default:
      return 0;
  }
}

const char* dataTypeName(ncclDataType_t type);
bool isFloatingType(ncclDataType_t type);

namespace detail {
inline float bitsToFloat(uint32_t x) {
  float f;
  memcpy(&f, &x, 4);
  return f;
}
inline uint32_t floatToBits(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  return x;
}
// Exact, out-of-line conversions for what the inline fast paths leave out.
uint32_t encodeHalfSlow(float f);
uint32_t encodeE4M3Slow(float f);
uint32_t encodeE5M2Slow(float f);

// Round-to-nearest-even on the float's own bits, for results that are normal and finite in a
// format with M mantissa bits and exponent bias `Bias`; returns false otherwise.
template <int M, int Bias, uint32_t MaxCode, int SignShift>
inline bool encodeNormal(float f, uint32_t* out) {
  const uint32_t x = floatToBits(f), absx = x & 0x7fffffffu;
  constexpr uint32_t kMinNormal = static_cast<uint32_t>(127 - Bias + 1) << 23;
  if (absx < kMinNormal || absx >= 0x7f800000u) return false;
  constexpr int kShift = 23 - M;
  const uint32_t rounded = absx + ((1u << (kShift - 1)) - 1) + ((absx >> kShift) & 1);
  const uint32_t code = (rounded - (static_cast<uint32_t>(127 - Bias) << 23)) >> kShift;
  if (code > MaxCode) return false;
  *out = ((x >> 31) << SignShift) | code;
  return true;
}
}  // namespace detail

inline float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
                 man = h & 0x3ff;
  if (exp == 0) {
    const float mag = static_cast<float>(man) * 5.9604644775390625e-8f;  // 2^-24
    return sign ? -mag : mag;
  }
  if (exp == 31) return detail::bitsToFloat(sign | 0x7f800000u | (man << 13));
  return detail::bitsToFloat(sign | ((exp + 112) << 23) | (man << 13));
}
inline uint16_t floatToHalf(float f) {
  uint32_t code;
  if (detail::encodeNormal<10, 15, 0x7bff, 15>(f, &code)) return static_cast<uint16_t>(code);
  return static_cast<uint16_t>(detail::encodeHalfSlow(f));
}
inline float bf16ToFloat(uint16_t b) {
  return detail::bitsToFloat(static_cast<uint32_t>(b) << 16);
}
inline uint16_t floatToBf16(float f) {
  uint32_t x = detail::floatToBits(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}
// e4m3 ("FN"): no infinities, S.1111.111 is NaN, largest finite 448.
inline float fp8e4m3ToFloat(uint8_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x80) << 24, exp = (v >> 3) & 0xf, man = v & 0x7;
  if (exp == 0) {
    const float mag = static_cast<float>(man) * 0.001953125f;  // 2^-9
    return sign ? -mag : mag;
  }
  if (exp == 15 && man == 7) return detail::bitsToFloat(sign | 0x7fc00000u);
  return detail::bitsToFloat(sign | ((exp + 120) << 23) | (man << 20));
}
inline uint8_t floatToFp8e4m3(float f) {
  uint32_t code;
  if (detail::encodeNormal<3, 7, 0x7e, 7>(f, &code)) return static_cast<uint8_t>(code);
  return static_cast<uint8_t>(detail::encodeE4M3Slow(f));
}
// e5m2 is the upper byte of an fp16.
inline float fp8e5m2ToFloat(uint8_t v) {
  return halfToFloat(static_cast<uint16_t>(v << 8));
}
inline uint8_t floatToFp8e5m2(float f) {
  uint32_t code;
  if (detail::encodeNormal<2, 15, 0x7b, 7>(f, &code)) return static_cast<uint8_t>(code);
  return static_cast<uint8_t>(detail::encodeE5M2Slow(f));
}

// The slow, obviously exact conversions (for tests of the fast paths above).
uint16_t floatToHalfExact(float f);
uint8_t floatToFp8e4m3Exact(float f);
uint8_t floatToFp8e5m2Exact(float f);
float halfToFloatExact(uint16_t h);
float fp8e4m3ToFloatExact(uint8_t v);
float fp8e5m2ToFloatExact(uint8_t v);

// Storage wrappers: the reduction template computes in `Compute` and stores as the raw type.
struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};
struct Fp8E4M3 {
  uint8_t bits;
};
struct Fp8E5M2 {
  uint8_t bits;
};

template <typename T>
struct ElementTraits {
  using Compute = T;
  static Compute load(T v) { return v; }
  static T store(Compute v) { return v; }
};
template <>
struct ElementTraits<Half> {
  using Compute = float;
  static float load(Half v) { return halfToFloat(v.bits); }
  static Half store(float v) { return {floatToHalf(v)}; }
};
template <>
struct ElementTraits<BFloat16> {
  using Compute = float;
  static float load(BFloat16 v) { return bf16ToFloat(v.bits); }
  static BFloat16 store(float v) { return {floatToBf16(v)}; }
};
template <>
struct ElementTraits<Fp8E4M3> {
  using Compute = float;
  static float load(Fp8E4M3 v) { return fp8e4m3ToFloat(v.bits); }
  static Fp8E4M3 store(float v) { return {floatToFp8e4m3(v)}; }
};
template <>
struct ElementTraits<Fp8E5M2> {
  using Compute = float;
  static float load(Fp8E5M2 v) { return fp8e5m2ToFloat(v.bits); }
  static Fp8E5M2 store(float v) { return {floatToFp8e5m2(v)}; }
};

}  // namespace tccl
