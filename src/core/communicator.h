// The communicator behind ncclComm_t.
#pragma once

#include <nccl.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/bootstrap.h"
#include "core/runtime_env.h"
#include "core/user_redops.h"
#include "device/device_backend.h"
#include "exec/channel_set.h"
#include "plan/plan.h"
#include "transport/buffer_exchange.h"
#include "transport/connection.h"

namespace tccl {

class NetPlugin;
namespace topo {
struct PluginNicMap;
}
struct CudaCommState;  // src/core/cuda_glue.cc; only builds with the CUDA backend define it

}  // namespace tccl

struct ncclComm {
  int rank = 0;
  int nranks = 0;
  int cudaDev = 0;
  bool blocking = true;
  ncclConfig_t config{};  // parsed (comm_config.h); its strings point to the copies below
  std::string commName;
  std::string netName;

  tccl::RuntimeEnv env;
  std::unique_ptr<tccl::Bootstrap> bootstrap;
  std::vector<tccl::RankInfo> ranks;
  tccl::JobShape shape;
  tccl::Plan plan;
  tccl::ChannelSet channels;  // the plan's rings and trees, connected
  std::map<int, std::unique_ptr<tccl::Connection>> p2pSend, p2pRecv;
  std::unique_ptr<tccl::DeviceBackend> device;
  // The network of the hops between nodes (core/network_choice.h); null: TCCL's own sockets.
  std::shared_ptr<tccl::NetPlugin> netPlugin;
  // Which plugin device is on which NIC of this node (core/plugin_nic_setup.h).
  std::shared_ptr<const tccl::topo::PluginNicMap> pluginNics;
  // Direct algorithms over ncclMemAlloc buffers, when every rank is on this machine.
  std::unique_ptr<tccl::BufferExchange> exchange;
  uint64_t directSeq = 0;
  // The CUDA backend's proxy and typed backend (src/core/cuda_glue.cc); null on the host.
  std::shared_ptr<tccl::CudaCommState> cudaState;
  tccl::UserRedOps userOps;

  std::atomic<bool> abortFlag{false};
  std::atomic<ncclResult_t> asyncError{ncclSuccess};
  std::thread initThread;  // non-blocking init (or init inside a group)
  std::mutex mutex;
  std::string lastError;
};

namespace tccl {

// Live communicators, to reject handles that were destroyed or never created.
void registerComm(ncclComm* comm);
void unregisterComm(ncclComm* comm);
bool isLiveComm(const ncclComm* comm);

// Waits for a pending non-blocking init; returns its result.
ncclResult_t waitCommReady(ncclComm* comm);

}  // namespace tccl
