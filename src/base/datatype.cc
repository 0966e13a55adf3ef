#include "base/datatype.h"

#include <array>
#include <cmath>
#include <cstring>

namespace tccl {

const char* dataTypeName(ncclDataType_t type) {
  static const char* names[] = {"int8", "uint8", "int32",  "uint32",   "int64",  "uint64",
                                "half", "float", "double", "bfloat16", "f8e4m3", "f8e5m2"};
  return type >= 0 && type < ncclNumTypes ? names[type] : "invalid";
}

bool isFloatingType(ncclDataType_t type) {
  return type == ncclFloat16 || type == ncclFloat32 || type == ncclFloat64 ||
         type == ncclBfloat16 || type == ncclFloat8e4m3 || type == ncclFloat8e5m2;
}

namespace {

// A binary minifloat: sign, `E` exponent bits, `M` mantissa bits.
template <int E, int M, bool kHasInf>
struct Minifloat {
  static constexpr int kBias = (1 << (E - 1)) - 1;
  static constexpr int kExpBits = E;
  static constexpr uint32_t kExpMask = (1u << E) - 1;
  // e4m3 (OCP "FN") has no infinity: only S.1111.111 is NaN, so its top exponent is finite.
  static constexpr uint32_t kMaxCode =
      kHasInf ? ((kExpMask - 1) << M) | ((1u << M) - 1) : (kExpMask << M) | ((1u << M) - 2);
  static constexpr uint32_t kNanCode =
      kHasInf ? (kExpMask << M) | (1u << (M - 1)) : (kExpMask << M) | ((1u << M) - 1);
  static constexpr uint32_t kInfCode = kExpMask << M;

  static double decodeMagnitude(uint32_t code) {
    uint32_t e = (code >> M) & kExpMask, m = code & ((1u << M) - 1);
    if (e == 0) return std::ldexp(static_cast<double>(m), 1 - kBias - M);
    return std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -M), static_cast<int>(e) - kBias);
  }

  static float decode(uint32_t v) {
    uint32_t sign = v >> (E + M) & 1, code = v & ((1u << (E + M)) - 1);
    uint32_t e = code >> M, m = code & ((1u << M) - 1);
    float r;
    if (kHasInf && e == kExpMask)
      r = m ? NAN : INFINITY;
    else if (!kHasInf && code == kNanCode)
      r = NAN;
    else
      r = static_cast<float>(decodeMagnitude(code));
    return sign ? -r : r;
  }

  // Round to nearest even; beyond the largest finite value: infinity or saturation.
  static uint32_t encode(float f, bool saturate) {
    uint32_t sign = std::signbit(f) ? 1u << (E + M) : 0;
    if (std::isnan(f)) return sign | kNanCode;
    double a = std::fabs(static_cast<double>(f));
    double maxFinite = decodeMagnitude(kMaxCode);
    if (std::isinf(a)) return sign | (saturate || !kHasInf ? kMaxCode : kInfCode);
    uint32_t code;
    const int emin = 1 - kBias;
    if (a < std::ldexp(1.0, emin)) {
      // Subnormal: a multiple of the quantum; nearbyint rounds half to even. A result of
      // 2^M is exactly the smallest normal's code.
      code = static_cast<uint32_t>(std::nearbyint(std::ldexp(a, M - emin)));
    } else {
      int ex;
      std::frexp(a, &ex);
      int e = ex - 1;
      double mant = std::ldexp(a, -e);  // [1, 2)
      uint32_t m = static_cast<uint32_t>(std::nearbyint((mant - 1.0) * (1 << M)));
      if (m == (1u << M)) {
        m = 0;
        ++e;
      }
      if (e + kBias > static_cast<int>(kExpMask))
        return sign | (saturate || !kHasInf ? kMaxCode : kInfCode);
      code = (static_cast<uint32_t>(e + kBias) << M) | m;
    }
    if (code > kMaxCode || (a > maxFinite && decodeMagnitude(code) > maxFinite))
      return sign | (saturate || !kHasInf ? kMaxCode : kInfCode);
    return sign | code;
  }
};

using HalfFormat = Minifloat<5, 10, true>;
using E4M3Format = Minifloat<4, 3, false>;
using E5M2Format = Minifloat<5, 2, true>;

}  // namespace

namespace detail {
uint32_t encodeHalfSlow(float f) {
  return HalfFormat::encode(f, false);
}
uint32_t encodeE4M3Slow(float f) {
  return E4M3Format::encode(f, true);
}
uint32_t encodeE5M2Slow(float f) {
  return E5M2Format::encode(f, true);
}
}  // namespace detail

uint16_t floatToHalfExact(float f) {
  return static_cast<uint16_t>(HalfFormat::encode(f, false));
}
uint8_t floatToFp8e4m3Exact(float f) {
  return static_cast<uint8_t>(E4M3Format::encode(f, true));
}
uint8_t floatToFp8e5m2Exact(float f) {
  return static_cast<uint8_t>(E5M2Format::encode(f, true));
}
float halfToFloatExact(uint16_t h) {
  return HalfFormat::decode(h);
}
float fp8e4m3ToFloatExact(uint8_t v) {
  return E4M3Format::decode(v);
}
float fp8e5m2ToFloatExact(uint8_t v) {
  return E5M2Format::decode(v);
}

}  // namespace tccl
