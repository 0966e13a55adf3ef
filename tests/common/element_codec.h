// Storing and loading test values in every nccl.h datatype, through the library's own
// conversion routines (which tests/unit checks exhaustively against exact ones).
#pragma once

#include <nccl.h>

#include <cstdint>
#include <cstring>

#include "base/datatype.h"

namespace tccl::test {

inline void storeValue(void* buf, size_t i, ncclDataType_t t, double v) {
  char* p = static_cast<char*>(buf) + i * dataTypeSize(t);
  switch (t) {
    case ncclInt8: {
      int8_t x = static_cast<int8_t>(static_cast<int64_t>(v));
      memcpy(p, &x, 1);
      break;
    }
    case ncclUint8: {
      uint8_t x = static_cast<uint8_t>(static_cast<int64_t>(v));
      memcpy(p, &x, 1);
      break;
    }
    case ncclInt32: {
      int32_t x = static_cast<int32_t>(static_cast<int64_t>(v));
      memcpy(p, &x, 4);
      break;
    }
    case ncclUint32: {
      uint32_t x = static_cast<uint32_t>(static_cast<int64_t>(v));
      memcpy(p, &x, 4);
      break;
    }
    case ncclInt64: {
      int64_t x = static_cast<int64_t>(v);
      memcpy(p, &x, 8);
      break;
    }
    case ncclUint64: {
      uint64_t x = static_cast<uint64_t>(static_cast<int64_t>(v));
      memcpy(p, &x, 8);
      break;
    }
    case ncclFloat16: {
      uint16_t x = floatToHalf(static_cast<float>(v));
      memcpy(p, &x, 2);
      break;
    }
    case ncclFloat32: {
      float x = static_cast<float>(v);
      memcpy(p, &x, 4);
      break;
    }
    case ncclFloat64:
      memcpy(p, &v, 8);
      break;
    case ncclBfloat16: {
      uint16_t x = floatToBf16(static_cast<float>(v));
      memcpy(p, &x, 2);
      break;
    }
    case ncclFloat8e4m3: {
      uint8_t x = floatToFp8e4m3(static_cast<float>(v));
      memcpy(p, &x, 1);
      break;
    }
    case ncclFloat8e5m2: {
      uint8_t x = floatToFp8e5m2(static_cast<float>(v));
      memcpy(p, &x, 1);
      break;
    }
    default:
      break;
  }
}

inline double loadValue(const void* buf, size_t i, ncclDataType_t t) {
  const char* p = static_cast<const char*>(buf) + i * dataTypeSize(t);
  switch (t) {
    case ncclInt8: {
      int8_t x;
      memcpy(&x, p, 1);
      return x;
    }
    case ncclUint8: {
      uint8_t x;
      memcpy(&x, p, 1);
      return x;
    }
    case ncclInt32: {
      int32_t x;
      memcpy(&x, p, 4);
      return x;
    }
    case ncclUint32: {
      uint32_t x;
      memcpy(&x, p, 4);
      return x;
    }
    case ncclInt64: {
      int64_t x;
      memcpy(&x, p, 8);
      return static_cast<double>(x);
    }
    case ncclUint64: {
      uint64_t x;
      memcpy(&x, p, 8);
      return static_cast<double>(x);
    }
    case ncclFloat16: {
      uint16_t x;
      memcpy(&x, p, 2);
      return halfToFloat(x);
    }
    case ncclFloat32: {
      float x;
      memcpy(&x, p, 4);
      return x;
    }
    case ncclFloat64: {
      double x;
      memcpy(&x, p, 8);
      return x;
    }
    case ncclBfloat16: {
      uint16_t x;
      memcpy(&x, p, 2);
      return bf16ToFloat(x);
    }
    case ncclFloat8e4m3: {
      uint8_t x;
      memcpy(&x, p, 1);
      return fp8e4m3ToFloat(x);
    }
    case ncclFloat8e5m2: {
      uint8_t x;
      memcpy(&x, p, 1);
      return fp8e5m2ToFloat(x);
    }
    default:
      return 0;
  }
}

inline bool isSignedType(ncclDataType_t t) {
  return t != ncclUint8 && t != ncclUint32 && t != ncclUint64;
}

// An integer product computed modulo 2^64, as the integer type `t` holds it (wrapped to its
// width, two's complement for the signed ones).
inline double wrapToType(uint64_t product, ncclDataType_t t) {
  const size_t bits = dataTypeSize(t) * 8;
  if (bits < 64) product &= (1ull << bits) - 1;
  if (isSignedType(t) && bits < 64 && ((product >> (bits - 1)) & 1))
    return static_cast<double>(static_cast<int64_t>(product) - (1ll << bits));
  return isSignedType(t) ? static_cast<double>(static_cast<int64_t>(product))
                         : static_cast<double>(product);
}

inline uint64_t hashBytes(const void* data, size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t h = 1469598103934665603ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace tccl::test
