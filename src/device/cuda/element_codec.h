// Bit-exact float <-> fp16/bf16/fp8 conversions usable on the device and the host. They
// reproduce base/datatype.h exactly (round to nearest even; fp16 overflows to infinity, fp8
// saturates; NaN becomes the format's canonical NaN), so a GPU step gives the same bits as
// the host backend. Integer-only: no device libm, no dependence on the GPU architecture.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define TCCL_HD __host__ __device__ __forceinline__
#else
#define TCCL_HD inline
#endif

namespace tccl::codec {

TCCL_HD uint32_t floatBits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t x;
  memcpy(&x, &f, 4);
  return x;
#endif
}

TCCL_HD float bitsFloat(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(x);
#else
  float f;
  memcpy(&f, &x, 4);
  return f;
#endif
}

// A binary minifloat: sign, E exponent bits, M mantissa bits; e4m3 ("FN") has no infinity.
template <int E, int M, bool kHasInf>
struct Minifloat {
  static constexpr int kBias = (1 << (E - 1)) - 1;
  static constexpr uint32_t kExpMask = (1u << E) - 1;
  static constexpr uint32_t kSign = 1u << (E + M);
  static constexpr uint32_t kMaxCode =
      kHasInf ? ((kExpMask - 1) << M) | ((1u << M) - 1) : (kExpMask << M) | ((1u << M) - 2);
  static constexpr uint32_t kNanCode =
      kHasInf ? (kExpMask << M) | (1u << (M - 1)) : (kExpMask << M) | ((1u << M) - 1);
  static constexpr uint32_t kInfCode = kExpMask << M;

  TCCL_HD static float decode(uint32_t v) {
    const uint32_t sign = (v & kSign) ? 0x80000000u : 0u;
    const uint32_t code = v & (kSign - 1);
    const uint32_t e = code >> M, m = code & ((1u << M) - 1);
    uint32_t bits;
    if (kHasInf && e == kExpMask) {
      bits = m ? 0x7fc00000u : 0x7f800000u;
    } else if (!kHasInf && code == kNanCode) {
      bits = 0x7fc00000u;
    } else if (e == 0) {
      if (m == 0) {
        bits = 0;
      } else {  // subnormal: normalise the mantissa's top bit into the implicit one
        int p = M - 1;
        while (!(m & (1u << p))) --p;
        const int exp = p + 1 - kBias - M;
        bits = (static_cast<uint32_t>(exp + 127) << 23) | ((m & ~(1u << p)) << (23 - p));
      }
    } else {
      bits = ((e - kBias + 127) << 23) | (m << (23 - M));
    }
    return bitsFloat(sign | bits);
  }

  TCCL_HD static uint32_t encode(float f, bool saturate) {
    const uint32_t x = floatBits(f);
    const uint32_t sign = (x >> 31) ? kSign : 0u;
    const uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | kNanCode;
    const uint32_t overflow = sign | (saturate || !kHasInf ? kMaxCode : kInfCode);
    if (a == 0x7f800000u) return overflow;
    constexpr uint32_t kMinNormal = static_cast<uint32_t>(127 - kBias + 1) << 23;
    constexpr int kShift = 23 - M;
    uint32_t code;
    if (a >= kMinNormal) {
      const uint32_t rounded = a + ((1u << (kShift - 1)) - 1) + ((a >> kShift) & 1);
      code = (rounded - (static_cast<uint32_t>(127 - kBias) << 23)) >> kShift;
    } else {
      // A subnormal of the target: the value in quanta of 2^(1-bias-M), rounded half to even.
      if (a < 0x00800000u) return sign;  // float subnormal: far below half a quantum
      const int fe = static_cast<int>(a >> 23);
      const uint64_t s = (a & 0x7fffffu) | 0x800000u;
      const int sh = 150 - M + 1 - kBias - fe;
      if (sh > 25) return sign;  // below a quarter quantum
      uint64_t q = s >> sh;
      const uint64_t rem = s & ((1ull << sh) - 1), half = 1ull << (sh - 1);
      if (rem > half || (rem == half && (q & 1))) ++q;
      code = static_cast<uint32_t>(q);
    }
    return code > kMaxCode ? overflow : (sign | code);
  }
};

using HalfCodec = Minifloat<5, 10, true>;
using E4M3Codec = Minifloat<4, 3, false>;
using E5M2Codec = Minifloat<5, 2, true>;

TCCL_HD float halfToFloat(uint16_t h) {
  return HalfCodec::decode(h);
}
TCCL_HD uint16_t floatToHalf(float f) {
  return static_cast<uint16_t>(HalfCodec::encode(f, false));
}
TCCL_HD float e4m3ToFloat(uint8_t v) {
  return E4M3Codec::decode(v);
}
TCCL_HD uint8_t floatToE4m3(float f) {
  return static_cast<uint8_t>(E4M3Codec::encode(f, true));
}
TCCL_HD float e5m2ToFloat(uint8_t v) {
  return E5M2Codec::decode(v);
}
TCCL_HD uint8_t floatToE5m2(float f) {
  return static_cast<uint8_t>(E5M2Codec::encode(f, true));
}
TCCL_HD float bf16ToFloat(uint16_t b) {
  return bitsFloat(static_cast<uint32_t>(b) << 16);
}
TCCL_HD uint16_t floatToBf16(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fffu + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace tccl::codec
