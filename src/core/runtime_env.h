// The runtime's settings from the environment: TCCL's own variables and NCCL's knobs.
#pragma once

#include <nccl.h>

#include <cstdint>
#include <string>

#include "plan/nccl_system.h"

namespace tccl {

// Everything the runtime reads from the environment, read once per communicator init.
struct RuntimeEnv {
  int64_t bootstrapTimeoutSec = 120;  // TCCL_BOOTSTRAP_TIMEOUT
  int64_t timeoutSec = 300;           // TCCL_TIMEOUT: no progress for this long is an error
  int64_t chunkBytes = 1 << 20;       // TCCL_CHUNK_SIZE: one FIFO slot
  int64_t nSlots = 4;                 // TCCL_FIFO_SLOTS
  int64_t nChannels = 1;              // NCCL_MIN_NCHANNELS (host default 1)
  std::string device;                 // TCCL_DEVICE: host|cuda|auto
  std::string dbPath;                 // TCCL_DB
  std::string xmlPath;                // TCCL_XML_FILE
  std::string dbNode;                 // TCCL_DB_NODE
  bool dbStrict = false;              // TCCL_DB_STRICT
  std::string simTopology;            // TCCL_SIM_TOPOLOGY
  std::string algo;                   // NCCL_ALGO
  bool directAllReduce = true;        // TCCL_DIRECT_ALLREDUCE: direct on ncclMemAlloc buffers
  int64_t netThreads = 2;             // NCCL_SOCKET_NTHREADS: helper threads per net hop
  int64_t netSocksPerThread = 1;      // NCCL_NSOCKS_PERTHREAD
  bool localRegister = true;  // NCCL_LOCAL_REGISTER: net plugins send from registered buffers
  int64_t treeMaxBytes = 256 << 10;  // TCCL_TREE_MAX_BYTES: default algo picks tree up to this
  nccl::Release ncclRelease = nccl::Release::k2_28;  // the nccl.h TCCL was built with
  nccl::Knobs ncclKnobs;  // NCCL_P2P_LEVEL and friends: the default plan follows them as NCCL does
};
ncclResult_t readRuntimeEnv(RuntimeEnv* env);

}  // namespace tccl
