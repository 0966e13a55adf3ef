#include "core/comm_config.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace tccl {
namespace {

constexpr unsigned kConfigMagic = 0xcafebeef;
constexpr int kMaxChannels = 64;  // NCCL's MAXCHANNELS bounds nChannelsPerNetPeer
constexpr int kUndef = NCCL_CONFIG_UNDEF_INT;

bool undefOrBool(int v) {
  return v == kUndef || v == 0 || v == 1;
}

// A caller's padding may overlap fields of a newer layout (2.19's 48 bytes end with 4 bytes of
// padding where 2.25 put trafficClass), so fields newer than the caller's version keep their
// defaults even when they lie inside `size`.
void defaultFieldsNewerThan(unsigned version, ncclConfig_t* c) {
  const ncclConfig_t d = NCCL_CONFIG_INITIALIZER;
  if (version < NCCL_VERSION(2, 14, 0)) c->blocking = d.blocking;
  if (version < NCCL_VERSION(2, 17, 0)) {
    c->cgaClusterSize = d.cgaClusterSize;
    c->minCTAs = d.minCTAs;
    c->maxCTAs = d.maxCTAs;
    c->netName = d.netName;
  }
  if (version < NCCL_VERSION(2, 25, 0)) c->trafficClass = d.trafficClass;
  if (version < NCCL_VERSION(2, 27, 0)) {
    c->collnetEnable = d.collnetEnable;
    c->CTAPolicy = d.CTAPolicy;
    c->shrinkShare = d.shrinkShare;
    c->nvlsCTAs = d.nvlsCTAs;
  }
  if (version < NCCL_VERSION(2, 28, 0)) {
    c->nChannelsPerNetPeer = d.nChannelsPerNetPeer;
    c->nvlinkCentricSched = d.nvlinkCentricSched;
  }
}

ncclResult_t invalid(const char* field, int value) {
  return setError(ncclInvalidArgument, "ncclConfig_t.%s=%d is not a valid value", field, value);
}

ncclResult_t checkValues(const ncclConfig_t& c) {
  if (!undefOrBool(c.blocking)) return invalid("blocking", c.blocking);
  if (c.cgaClusterSize != kUndef && c.cgaClusterSize < 0)
    return invalid("cgaClusterSize", c.cgaClusterSize);
  if (c.minCTAs != kUndef && c.minCTAs <= 0) return invalid("minCTAs", c.minCTAs);
  if (c.maxCTAs != kUndef && c.maxCTAs <= 0) return invalid("maxCTAs", c.maxCTAs);
  if (c.minCTAs != kUndef && c.maxCTAs != kUndef && c.minCTAs > c.maxCTAs)
    return setError(ncclInvalidArgument, "ncclConfig_t.minCTAs=%d is larger than maxCTAs=%d",
                    c.minCTAs, c.maxCTAs);
  if (!undefOrBool(c.splitShare)) return invalid("splitShare", c.splitShare);
  if (!undefOrBool(c.collnetEnable)) return invalid("collnetEnable", c.collnetEnable);
  if (c.CTAPolicy != kUndef &&
      (c.CTAPolicy < NCCL_CTA_POLICY_DEFAULT || c.CTAPolicy > NCCL_CTA_POLICY_ZERO))
    return invalid("CTAPolicy", c.CTAPolicy);
  if (!undefOrBool(c.shrinkShare)) return invalid("shrinkShare", c.shrinkShare);
  if (c.nvlsCTAs != kUndef && c.nvlsCTAs <= 0) return invalid("nvlsCTAs", c.nvlsCTAs);
  if (c.nChannelsPerNetPeer != kUndef &&
      (c.nChannelsPerNetPeer <= 0 || c.nChannelsPerNetPeer > kMaxChannels))
    return invalid("nChannelsPerNetPeer", c.nChannelsPerNetPeer);
  if (!undefOrBool(c.nvlinkCentricSched))
    return invalid("nvlinkCentricSched", c.nvlinkCentricSched);
  return ncclSuccess;
}

template <typename T>
void defaultIfUndef(T* field, T undef, T value) {
  if (*field == undef) *field = value;
}

// NCCL's defaults for what the caller left undefined.
void applyDefaults(ncclConfig_t* c) {
  defaultIfUndef(&c->blocking, kUndef, 1);
  defaultIfUndef(&c->cgaClusterSize, kUndef, 4);
  defaultIfUndef(&c->minCTAs, kUndef, 1);
  defaultIfUndef(&c->maxCTAs, kUndef, kMaxChannels);
  defaultIfUndef(&c->splitShare, kUndef, 0);
  defaultIfUndef(&c->collnetEnable, kUndef, 0);
  defaultIfUndef(&c->CTAPolicy, kUndef, NCCL_CTA_POLICY_DEFAULT);
  defaultIfUndef(&c->shrinkShare, kUndef, 0);
  defaultIfUndef(&c->nvlinkCentricSched, kUndef, 0);
}

}  // namespace

ncclResult_t parseCommConfig(const ncclConfig_t* config, ncclConfig_t* out) {
  ncclConfig_t c = NCCL_CONFIG_INITIALIZER;
  if (config) {
    size_t size = 0;
    memcpy(&size, config, sizeof(size));
    if (size < kOldestConfigSize)
      return setError(ncclInvalidArgument,
                      "ncclConfig_t.size=%zu is smaller than the oldest layout (%zu bytes, NCCL "
                      "2.14): initialize it with NCCL_CONFIG_INITIALIZER",
                      size, kOldestConfigSize);
    memcpy(static_cast<void*>(&c), config, std::min(size, sizeof(c)));
    if (c.magic != kConfigMagic)
      return setError(
          ncclInvalidArgument,
          "ncclConfig_t has magic %#x, expected %#x: initialize it with NCCL_CONFIG_INITIALIZER",
          c.magic, kConfigMagic);
    defaultFieldsNewerThan(c.version, &c);
    c.size = sizeof(c);
  }
  TCCL_CHECK(checkValues(c));
  applyDefaults(&c);
  *out = c;
  return ncclSuccess;
}

}  // namespace tccl
