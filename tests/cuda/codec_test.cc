// The device conversions (element_codec.h, compiled here for the host) against the host
// backend's base/datatype.h: every code decodes alike, and encodings agree on a sweep of
// floats plus every rounding tie and its neighbours.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "base/datatype.h"
#include "device/cuda/element_codec.h"

namespace tccl {
namespace {

uint32_t bitsOf(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  return x;
}
float floatOf(uint32_t x) {
  float f;
  memcpy(&f, &x, 4);
  return f;
}

// Equal bits, or both NaN (NaN payloads are re-encoded to the format's canonical NaN anyway).
::testing::AssertionResult sameFloat(float a, float b) {
  if (bitsOf(a) == bitsOf(b) ||
      (std::isnan(a) && std::isnan(b) && std::signbit(a) == std::signbit(b)))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << std::hexfloat << a << " vs " << b;
}

// Floats to encode: a prime-stride sweep of all bit patterns, and around each decoded value
// of the format the exact midpoints to its neighbours +- 1 ulp.
template <typename Decode>
std::vector<float> probes(int codeBits, Decode decode) {
  std::vector<float> out;
  for (uint64_t x = 0; x < (1ull << 32); x += 7919)
    out.push_back(floatOf(static_cast<uint32_t>(x)));
  for (uint32_t c = 0; c + 1 < (1u << codeBits); ++c) {
    float lo = decode(c), hi = decode(c + 1);
    if (!std::isfinite(lo) || !std::isfinite(hi)) continue;
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);
    for (float v : {lo, hi, mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY)}) {
      out.push_back(v);
      out.push_back(-v);
    }
  }
  for (float v : {0.f, -0.f, INFINITY, -INFINITY, NAN, -NAN, 1e-45f, 65504.f, 65520.f, 448.f, 464.f,
                  57344.f, 61440.f, 3.4e38f})
    out.push_back(v);
  return out;
}

TEST(CudaCodec, HalfMatchesHost) {
  for (uint32_t c = 0; c < (1u << 16); ++c)
    ASSERT_TRUE(sameFloat(codec::halfToFloat(static_cast<uint16_t>(c)),
                          halfToFloat(static_cast<uint16_t>(c))))
        << "code " << c;
  for (float f : probes(16, [](uint32_t c) { return halfToFloat(static_cast<uint16_t>(c)); }))
    ASSERT_EQ(codec::floatToHalf(f), floatToHalfExact(f)) << std::hexfloat << f;
}

TEST(CudaCodec, Bf16MatchesHost) {
  for (uint32_t c = 0; c < (1u << 16); ++c)
    ASSERT_TRUE(sameFloat(codec::bf16ToFloat(static_cast<uint16_t>(c)),
                          bf16ToFloat(static_cast<uint16_t>(c))));
  for (float f : probes(16, [](uint32_t c) { return bf16ToFloat(static_cast<uint16_t>(c)); }))
    ASSERT_EQ(codec::floatToBf16(f), floatToBf16(f)) << std::hexfloat << f;
}

TEST(CudaCodec, Fp8E4M3MatchesHost) {
  for (uint32_t c = 0; c < 256; ++c)
    ASSERT_TRUE(sameFloat(codec::e4m3ToFloat(static_cast<uint8_t>(c)),
                          fp8e4m3ToFloat(static_cast<uint8_t>(c))));
  for (float f : probes(8, [](uint32_t c) { return fp8e4m3ToFloat(static_cast<uint8_t>(c)); }))
    ASSERT_EQ(codec::floatToE4m3(f), floatToFp8e4m3Exact(f)) << std::hexfloat << f;
}

TEST(CudaCodec, Fp8E5M2MatchesHost) {
  for (uint32_t c = 0; c < 256; ++c)
    ASSERT_TRUE(sameFloat(codec::e5m2ToFloat(static_cast<uint8_t>(c)),
                          fp8e5m2ToFloat(static_cast<uint8_t>(c))));
  for (float f : probes(8, [](uint32_t c) { return fp8e5m2ToFloat(static_cast<uint8_t>(c)); }))
    ASSERT_EQ(codec::floatToE5m2(f), floatToFp8e5m2Exact(f)) << std::hexfloat << f;
}

}  // namespace
}  // namespace tccl
