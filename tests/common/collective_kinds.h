// The operations the multi-rank tests drive, by name (the collectives of nccl.h, plus grouped
// Send/Recv pairs).
#pragma once

namespace tccl::test {

enum Coll {
  kAllReduce,
  kReduce,
  kReduceScatter,
  kAllGather,
  kBroadcast,
  kAlltoAll,
  kGather,
  kScatter,
  kSendRecv,
  kNumColls
};
inline const char* const kCollNames[] = {"AllReduce", "Reduce",    "ReduceScatter",
                                         "AllGather", "Broadcast", "AlltoAll",
                                         "Gather",    "Scatter",   "SendRecv"};

inline bool isReduction(Coll c) {
  return c == kAllReduce || c == kReduce || c == kReduceScatter;
}

}  // namespace tccl::test
