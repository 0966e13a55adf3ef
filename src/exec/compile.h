// Compiles the operations of nccl.h into what the executor runs: a collective into a Program
// laid on the communicator's channels (ring or tree, or a direct AllReduce over shared
// buffers), and a group's point-to-point operations into one program whose lanes run at once.
#pragma once

#include <nccl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "device/device_backend.h"
#include "exec/channel_set.h"
#include "exec/program.h"
#include "exec/ring_schedule.h"
#include "plan/plan.h"
#include "transport/buffer_exchange.h"
#include "transport/connection.h"

namespace tccl {

struct CollTask {
  CollArgs args;
  ReduceSpec spec;
  cudaStream_t stream = nullptr;  // the CUDA backend orders the work on it
};

struct P2pTask {
  bool isSend = true;
  void* buff = nullptr;
  size_t count = 0;
  ncclDataType_t type = ncclFloat32;
  int peer = 0;
  cudaStream_t stream = nullptr;
  std::shared_ptr<void> keepAlive;  // memory `buff` points into (a staged in-place input)
};

// A communicator as compiling a collective sees it.
struct CollTarget {
  const ChannelSet& channels;
  const JobShape& shape;
  DeviceBackend& device;
  size_t chunkBytes;        // one FIFO slot: bounds each step
  size_t treeMaxBytes;      // the default algorithm picks tree up to this, across nodes
  const std::string& algo;  // NCCL_ALGO, "" when unset
  // When set, AllReduce also gets a direct algorithm over shared buffers; *directSeq numbers
  // those operations alike on every rank.
  BufferExchange* exchange = nullptr;
  uint64_t* directSeq = nullptr;
};

ncclResult_t compileCollective(const CollTask& task, const CollTarget& target, Program* out);

// One lane per (peer, direction): several operations with one peer run in issue order. Every
// peer of `tasks` has its connection in `send` or `recv`.
void compileP2p(const std::vector<P2pTask>& tasks,
                const std::map<int, std::unique_ptr<Connection>>& send,
                const std::map<int, std::unique_ptr<Connection>>& recv, size_t chunkBytes,
                Program* out);

// "AllReduce", "Broadcast", ...
const char* collName(CollKind kind);

}  // namespace tccl
