// Chunked, pipelined ring schedules for the collectives of nccl.h.
#pragma once

#include <vector>

#include "exec/program.h"

namespace tccl {

enum class CollKind { kAllReduce, kAllGather, kReduceScatter, kBroadcast, kReduce };

// One channel as a ring schedule sees it.
struct RingView {
  std::vector<int> order;  // global ranks
  int position = 0;        // where this rank is in `order`
  Connection* send = nullptr;
  Connection* recv = nullptr;
};

struct CollArgs {
  CollKind kind = CollKind::kAllReduce;
  const void* sendbuff = nullptr;
  void* recvbuff = nullptr;
  size_t count = 0;  // per rank for AllGather / ReduceScatter, total otherwise
  int root = 0;
};

// Appends one lane per ring to `program`; chunkElems bounds each step (one FIFO slot).
void buildRingProgram(const CollArgs& args, const std::vector<RingView>& rings, size_t chunkElems,
                      Program* program);

}  // namespace tccl
