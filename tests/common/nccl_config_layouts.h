// ncclConfig_t exactly as released nccl.h headers declare it (src/nccl.h.in of NVIDIA/nccl at
// the tags named below), so that tests can hand TCCL the struct that a program built against
// another NCCL passes. Each is filled like that header's NCCL_CONFIG_INITIALIZER, in storage
// whose padding holds garbage and which ends where a guard page begins: reading past the
// caller's `size` faults.
#pragma once

#include <nccl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstring>
#include <new>

namespace tccl::test {

constexpr unsigned kNcclConfigMagic = 0xcafebeef;
constexpr int kUndefInt = INT_MIN;  // NCCL_CONFIG_UNDEF_INT of every header

// The fields of each released layout; a newer one appends to the one before.
#define TCCL_NCCL_CONFIG_V21700_FIELDS \
  size_t size;                         \
  unsigned int magic;                  \
  unsigned int version;                \
  int blocking;                        \
  int cgaClusterSize;                  \
  int minCTAs;                         \
  int maxCTAs;                         \
  const char* netName;                 \
  int splitShare;
#define TCCL_NCCL_CONFIG_V22700_FIELDS \
  TCCL_NCCL_CONFIG_V21700_FIELDS       \
  int trafficClass;                    \
  const char* commName;                \
  int collnetEnable;                   \
  int CTAPolicy;                       \
  int shrinkShare;                     \
  int nvlsCTAs;
#define TCCL_NCCL_CONFIG_V22800_FIELDS \
  TCCL_NCCL_CONFIG_V22700_FIELDS       \
  int nChannelsPerNetPeer;             \
  int nvlinkCentricSched;

// v2.19.3-1 (struct ncclConfig_v21700, unchanged from 2.17 to 2.26).
struct NcclConfig_2_19 {
  TCCL_NCCL_CONFIG_V21700_FIELDS
};

// v2.23.4-1: the same ncclConfig_v21700, a distinct type as a program built against it has.
struct NcclConfig_2_23 {
  TCCL_NCCL_CONFIG_V21700_FIELDS
};

// v2.27.3-1 (struct ncclConfig_v22700).
struct NcclConfig_2_27 {
  TCCL_NCCL_CONFIG_V22700_FIELDS
};

// v2.28.9-1 (struct ncclConfig_v22800).
struct NcclConfig_2_28 {
  TCCL_NCCL_CONFIG_V22800_FIELDS
};

// v2.30.7-1 (struct ncclConfig_v23000).
struct NcclConfig_2_30 {
  TCCL_NCCL_CONFIG_V22800_FIELDS
  int graphUsageMode;
  int numRmaCtx;
  int maxP2pPeers;
  int graphStreamOrdering;
};

#undef TCCL_NCCL_CONFIG_V22800_FIELDS
#undef TCCL_NCCL_CONFIG_V22700_FIELDS
#undef TCCL_NCCL_CONFIG_V21700_FIELDS

static_assert(sizeof(NcclConfig_2_19) == 48 && sizeof(NcclConfig_2_23) == 48);
static_assert(sizeof(NcclConfig_2_27) == 72 && sizeof(NcclConfig_2_28) == 80);
static_assert(sizeof(NcclConfig_2_30) == 96);
static_assert(offsetof(NcclConfig_2_27, commName) == 48 &&
              offsetof(NcclConfig_2_30, nChannelsPerNetPeer) == 72 &&
              offsetof(NcclConfig_2_30, graphStreamOrdering) == 92);

// What NCCL_CONFIG_INITIALIZER of each header sets, field by field.
template <typename Config>
void initializeLike(Config* c, unsigned version) {
  c->size = sizeof(Config);
  c->magic = kNcclConfigMagic;
  c->version = version;
  c->blocking = c->cgaClusterSize = c->minCTAs = c->maxCTAs = kUndefInt;
  c->netName = nullptr;
  c->splitShare = kUndefInt;
  if constexpr (sizeof(Config) >= sizeof(NcclConfig_2_27)) {
    c->trafficClass = kUndefInt;
    c->commName = nullptr;
    c->collnetEnable = c->CTAPolicy = c->shrinkShare = c->nvlsCTAs = kUndefInt;
  }
  if constexpr (sizeof(Config) >= sizeof(NcclConfig_2_28))
    c->nChannelsPerNetPeer = c->nvlinkCentricSched = kUndefInt;
  if constexpr (sizeof(Config) >= sizeof(NcclConfig_2_30))
    c->graphUsageMode = c->numRmaCtx = c->maxP2pPeers = c->graphStreamOrdering = kUndefInt;
}

// A Config placed so that its last byte is the last byte before a PROT_NONE page.
template <typename Config>
class GuardedConfig {
 public:
  explicit GuardedConfig(unsigned version) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<char*>(p);
    bytes_ = 2 * page;
    mprotect(base_ + page, page, PROT_NONE);
    memset(base_, 0xa5, page);  // padding and everything around the struct is garbage
    config_ = reinterpret_cast<Config*>(base_ + page - sizeof(Config));
    initializeLike(config_, version);
  }
  ~GuardedConfig() { munmap(base_, bytes_); }
  GuardedConfig(const GuardedConfig&) = delete;
  GuardedConfig& operator=(const GuardedConfig&) = delete;

  Config* get() { return config_; }
  Config* operator->() { return config_; }
  // What the caller hands to ncclCommInitRankConfig / ncclCommSplit.
  ncclConfig_t* asNccl() { return reinterpret_cast<ncclConfig_t*>(config_); }

 private:
  char* base_ = nullptr;
  size_t bytes_ = 0;
  Config* config_ = nullptr;
};

}  // namespace tccl::test
