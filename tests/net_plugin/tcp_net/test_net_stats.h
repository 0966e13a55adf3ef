// What the in-tree test plugin counts, read by the tests through the plugin's own
// tcclTestNetStats symbol (dlopen the plugin's file with RTLD_NOLOAD, then dlsym).
#pragma once

#include <cstdint>

struct TestNetStats {
  int64_t initCalls;
  int64_t registrations;      // regMr calls that succeeded
  int64_t deregistrations;    // deregMr calls that succeeded
  int64_t liveRegistrations;  // registrations - deregistrations
  int64_t cudaRegistrations;  // of type NCCL_PTR_CUDA
  int64_t liveComms;          // listen, send and receive comms not closed yet
  int64_t isends;
  int64_t irecvs;
  int64_t refusedRequests;  // isend/irecv answered "later" (null request): the comm was full
  int64_t flushes;          // iflush calls
  int64_t maxInflight;      // most requests one comm held at once
};

constexpr const char* kTestNetStatsSymbol = "tcclTestNetStats";
using TestNetStatsFn = void (*)(TestNetStats* out);
