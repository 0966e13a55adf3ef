// Element types of nccl.h. fp16, bf16 and fp8 are reduced in float and rounded back to
// nearest-even after every step, as NCCL does; fp8 conversions saturate to the largest
// finite value (CUDA's __NV_SATFINITE), fp16 overflows to infinity (IEEE).
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>

namespace tccl {

size_t dataTypeSize(ncclDataType_t type);
const char* dataTypeName(ncclDataType_t type);
bool isFloatingType(ncclDataType_t type);

float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);
float fp8e4m3ToFloat(uint8_t v);
uint8_t floatToFp8e4m3(float f);
float fp8e5m2ToFloat(uint8_t v);
uint8_t floatToFp8e5m2(float f);

// The slow, obviously exact conversions behind the fast paths above (for tests).
uint16_t floatToHalfExact(float f);
uint8_t floatToFp8e4m3Exact(float f);
uint8_t floatToFp8e5m2Exact(float f);

// Storage wrappers: the reduction template computes in `Compute` and stores as the raw type.
struct Half { uint16_t bits; };
struct BFloat16 { uint16_t bits; };
struct Fp8E4M3 { uint8_t bits; };
struct Fp8E5M2 { uint8_t bits; };

template <typename T> struct ElementTraits {
  using Compute = T;
  static Compute load(T v) { return v; }
  static T store(Compute v) { return v; }
};
template <> struct ElementTraits<Half> {
  using Compute = float;
  static float load(Half v) { return halfToFloat(v.bits); }
  static Half store(float v) { return {floatToHalf(v)}; }
};
template <> struct ElementTraits<BFloat16> {
  using Compute = float;
  static float load(BFloat16 v) { return bf16ToFloat(v.bits); }
  static BFloat16 store(float v) { return {floatToBf16(v)}; }
};
template <> struct ElementTraits<Fp8E4M3> {
  using Compute = float;
  static float load(Fp8E4M3 v) { return fp8e4m3ToFloat(v.bits); }
  static Fp8E4M3 store(float v) { return {floatToFp8e4m3(v)}; }
};
template <> struct ElementTraits<Fp8E5M2> {
  using Compute = float;
  static float load(Fp8E5M2 v) { return fp8e5m2ToFloat(v.bits); }
  static Fp8E5M2 store(float v) { return {floatToFp8e5m2(v)}; }
};

}  // namespace tccl
