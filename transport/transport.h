// What every transport offers the communicator, in the spirit of NCCL's ncclTransport list:
// whether it can serve a hop, and the three phases that set one up. Core owns the table of
// transports (src/core/transport_table.cc) and tries its entries in order; a transport sees
// only the plain HopContext below, never the communicator, and knows nothing of collectives.
//
// Setup runs in three phases so that no rank waits on a peer that waits on it: every send side
// of a batch, then every receive side, then every sender's await.
#pragma once

#include <nccl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/bootstrap.h"
#include "plan/hop.h"
#include "transport/async_steps.h"
#include "transport/connection.h"

namespace tccl {

class CudaBackend;
class NetPlugin;
namespace topo {
struct PluginNicMap;
}
class CallerMemory;

// One hop to set up, as the plan and the ranks' identities describe it.
struct HopSetup {
  int peer = 0;
  uint32_t tag = 0;   // distinguishes connections between the same two ranks
  int numaNode = -1;  // bounce or staging buffer placement; -1: none
  bool net = false;   // the peer is on another node (or NCCL_HOSTID says so)
  Hop descriptor;     // what the plan says about this hop (kShm when it says nothing)
};

// What a transport may use of the communicator: its bootstrap, its knobs and its device.
struct HopContext {
  Bootstrap* bootstrap = nullptr;
  int rank = 0;
  size_t slotBytes = 1 << 20;  // TCCL_CHUNK_SIZE
  int nSlots = 4;              // TCCL_FIFO_SLOTS
  int netThreads = 1;          // NCCL_SOCKET_NTHREADS
  int netSocksPerThread = 1;   // NCCL_NSOCKS_PERTHREAD
  double setupTimeoutSec = 120;
  double closeTimeoutSec = 300;
  const std::atomic<bool>* abortFlag = nullptr;
  // The CUDA backend of a CUDA communicator (it outlives every connection); null on the host.
  CudaBackend* cudaDevice = nullptr;
  // For a CUDA communicator, the steps that fill and drain a network hop's staging slots on
  // the GPU stream (one per connection); empty on the host.
  std::function<std::shared_ptr<AsyncSteps>()> netStaging;
  // The network plugin chosen at init (NCCL_NET_PLUGIN, NCCL_NET); null: TCCL's own sockets.
  std::shared_ptr<NetPlugin> netPlugin;
  // Which plugin device is on which of the node's NICs (the plan's NIC indices); null: unknown.
  std::shared_ptr<const topo::PluginNicMap> pluginNics;
  // Caller buffers that a net plugin may register and send from (NCCL_LOCAL_REGISTER); null:
  // none, every send is staged.
  const CallerMemory* callerMemory = nullptr;
};

struct Transport {
  const char* name;  // as NCCL_DEBUG=INFO prints it: "SHM", "NET/Socket", "CUDA"
  uint32_t logSubsystems;
  bool (*canConnect)(const HopContext& ctx, const HopSetup& hop);
  ncclResult_t (*connectSend)(const HopContext& ctx, const HopSetup& hop,
                              std::unique_ptr<Connection>* out);
  ncclResult_t (*connectRecv)(const HopContext& ctx, const HopSetup& hop,
                              std::unique_ptr<Connection>* out);
  // The sender's last step, after every connectSend and connectRecv of this rank.
  ncclResult_t (*awaitReceiver)(const HopContext& ctx, const HopSetup& hop,
                                Connection& sendConnection);
  // What the connection line says after the name (the hop kind); may be null.
  std::string (*describe)(const HopContext& ctx, const HopSetup& hop);
  // The name in the connection line when it depends on the communicator (a net plugin's
  // network: "NET/<its name>"); null: `name`.
  std::string (*label)(const HopContext& ctx);
};

// The entries each transport exports.
extern const Transport kShmTransport;
extern const Transport kNetPluginTransport;  // before NET/Socket: the network chosen at init
extern const Transport kNetSocketTransport;
extern const Transport kCudaTransport;  // only in builds with the CUDA backend

}  // namespace tccl
