#include "base/env.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace tccl {

static ncclResult_t parseNumber(const char* name, bool allowSuffix, int64_t fallback, int64_t lo,
                                int64_t hi, int64_t* out) {
  const char* s = getenv(name);
  if (!s || !*s) {
    *out = fallback;
    return ncclSuccess;
  }
  errno = 0;
  char* end = nullptr;
  long long v = strtoll(s, &end, 10);
  if (end == s || errno == ERANGE)
    return setError(ncclInvalidArgument, "%s='%s' is not a number", name, s);
  int64_t mult = 1;
  if (allowSuffix && *end) {
    switch (*end) {
      case 'k':
      case 'K':
        mult = 1ll << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ll << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ll << 30;
        break;
      default:
        mult = 0;
    }
    if (mult) ++end;
  }
  if (*end || mult == 0)
    return setError(ncclInvalidArgument, "%s='%s' is not a valid %s", name, s,
                    allowSuffix ? "size (digits with an optional K/M/G suffix)" : "integer");
  if (v > hi / mult || v * mult < lo || v * mult > hi)
    return setError(ncclInvalidArgument, "%s=%s is out of range [%lld, %lld]", name, s,
                    static_cast<long long>(lo), static_cast<long long>(hi));
  *out = v * mult;
  return ncclSuccess;
}

ncclResult_t envInt(const char* name, int64_t fallback, int64_t lo, int64_t hi, int64_t* out) {
  return parseNumber(name, false, fallback, lo, hi, out);
}

ncclResult_t envBytes(const char* name, int64_t fallback, int64_t lo, int64_t hi, int64_t* out) {
  return parseNumber(name, true, fallback, lo, hi, out);
}

std::string envString(const char* name, const std::string& fallback) {
  const char* s = getenv(name);
  return s && *s ? std::string(s) : fallback;
}

ncclResult_t readDeviceSetting(std::string* device) {
  *device = envString("TCCL_DEVICE", "auto");
  if (*device != "host" && *device != "cuda" && *device != "auto")
    return setError(ncclInvalidArgument, "TCCL_DEVICE='%s' is not one of host, cuda, auto",
                    device->c_str());
  return ncclSuccess;
}

}  // namespace tccl
