// The fast conversions against the slow exact ones, exhaustively where the domain is small.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "base/datatype.h"

using namespace tccl;

namespace {
float bits(uint32_t x) {
  float f;
  memcpy(&f, &x, 4);
  return f;
}
bool sameFloat(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}
}  // namespace

TEST(Datatype, DecodeMatchesExactForEveryCode) {
  for (uint32_t h = 0; h < 65536; ++h)
    ASSERT_TRUE(sameFloat(halfToFloat(static_cast<uint16_t>(h)),
                          halfToFloatExact(static_cast<uint16_t>(h))))
        << h;
  for (uint32_t v = 0; v < 256; ++v) {
    ASSERT_TRUE(sameFloat(fp8e4m3ToFloat(static_cast<uint8_t>(v)),
                          fp8e4m3ToFloatExact(static_cast<uint8_t>(v))))
        << v;
    ASSERT_TRUE(sameFloat(fp8e5m2ToFloat(static_cast<uint8_t>(v)),
                          fp8e5m2ToFloatExact(static_cast<uint8_t>(v))))
        << v;
  }
}

TEST(Datatype, KnownValues) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp8e4m3ToFloat(0x7e), 448.0f);
  EXPECT_TRUE(std::isnan(fp8e4m3ToFloat(0x7f)));
  EXPECT_EQ(fp8e5m2ToFloat(0x7b), 57344.0f);
  EXPECT_TRUE(std::isinf(fp8e5m2ToFloat(0x7c)));
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  // Ties go to even: 1 + 2^-11 lies halfway between two halves and rounds down to 1.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);  // overflow to infinity
  EXPECT_EQ(floatToFp8e4m3(1000.0f), 0x7e);  // saturates to 448
  EXPECT_EQ(floatToFp8e4m3(-1000.0f), 0xfe);
  EXPECT_EQ(floatToFp8e5m2(1e6f), 0x7b);
  EXPECT_EQ(floatToFp8e4m3(1.0625f), 0x38);  // tie between 1 and 1.125 -> even (1)
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
}

// The exact encoder picks the nearest code (ties to even), checked against all codes.
TEST(Datatype, ExactEncodersAreNearest) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-500.0f, 500.0f);
  for (int i = 0; i < 20000; ++i) {
    float f = dist(rng) * (i % 3 == 0 ? 1e-3f : 1.0f);
    uint8_t got = floatToFp8e4m3Exact(f);
    double best = 1e30;
    for (uint32_t c = 0; c < 256; ++c) {
      float v = fp8e4m3ToFloatExact(static_cast<uint8_t>(c));
      if (!std::isnan(v)) best = std::min(best, std::fabs(static_cast<double>(v) - f));
    }
    double err = std::fabs(static_cast<double>(fp8e4m3ToFloatExact(got)) - f);
    if (std::fabs(f) <= 448) {
      ASSERT_EQ(err, best) << f;
    }
  }
}

TEST(Datatype, FastEncodersMatchExact) {
  std::mt19937 rng(11);
  for (int i = 0; i < 2000000; ++i) {
    float f = bits(rng());
    ASSERT_EQ(floatToHalf(f), floatToHalfExact(f)) << f;
    ASSERT_EQ(floatToFp8e4m3(f), floatToFp8e4m3Exact(f)) << f;
    ASSERT_EQ(floatToFp8e5m2(f), floatToFp8e5m2Exact(f)) << f;
  }
  // Every half value round-trips, and so does every fp8 value.
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = halfToFloat(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(floatToHalf(f), h) << h;
    }
  }
  for (uint32_t v = 0; v < 256; ++v) {
    float a = fp8e4m3ToFloat(static_cast<uint8_t>(v)), b = fp8e5m2ToFloat(static_cast<uint8_t>(v));
    if (!std::isnan(a)) {
      ASSERT_EQ(floatToFp8e4m3(a), v) << v;
    }
    if (!std::isnan(b) && !std::isinf(b)) {
      ASSERT_EQ(floatToFp8e5m2(b), v) << v;
    }
  }
}
