// The network hop through an NCCL net plugin: the same slot FIFO as the socket hop, whose
// slots travel with the plugin's isend/irecv/test. The slot buffer is registered once
// (regMr; NCCL_PTR_HOST for host staging, NCCL_PTR_CUDA or dma-buf for GPU-direct); so is
// every caller region that sends go out from (transport/caller_memory.h). Flow
// control is the plugin's: the receiver keeps an irecv posted on every free slot, and a sender
// slot is free again once its isend completes. A helper thread per connection drives the
// plugin, as NCCL's proxy thread does, so the executor only ever polls.
//
// Setup follows the plugin's roles and knows nothing of communicators: the receiver listens
// and hands the plugin's connect handle (bytes) to the caller, which delivers it to the sender
// (over the bootstrap); the sender connects with it, while the receiver's helper thread
// accepts (plugins may need both sides to make progress at once).
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "transport/async_steps.h"
#include "transport/caller_memory.h"
#include "transport/connection.h"
#include "transport/net_plugin/net_plugin.h"

namespace tccl {

// GPU-direct: the slots live in memory the caller provides (device memory).
struct PluginSlotMemory {
  std::shared_ptr<void> memory;  // the slots start at memory.get(); kept until deregistered
  int ptrType = netabi::kPtrCuda;
  int dmabufFd = -1;  // >= 0 and the device supports dma-buf: registered with regMrDmaBuf
  uint64_t dmabufOffset = 0;
};

struct PluginNetConnectionSpec {
  size_t slotBytes = 1 << 20;
  int nSlots = 4;
  int numaNode = -1;  // host staging placement; -1: first touch
  int tag = 0;        // the plugin's message tag: equal on both sides
  int self = -1;      // ranks, for messages
  int peer = -1;
  double setupTimeoutSec = 120;  // connect and accept
  double closeTimeoutSec = 300;  // TCCL_TIMEOUT: at destruction, how long sends may drain
  const std::atomic<bool>* abortFlag = nullptr;  // set: stop at once, without draining
  // As for the socket hop: set when the steps that fill and drain the slots are asynchronous.
  std::shared_ptr<AsyncSteps> asyncSteps;
  std::optional<PluginSlotMemory> deviceSlots;  // set: GPU-direct, else host staging
  // Set (host data only): a send whose bytes lie in one of these regions goes out from there,
  // each region registered with the plugin once (NCCL_LOCAL_REGISTER); other sends are staged.
  const CallerMemory* callerMemory = nullptr;
};

// Setup in the three phases of the other hops: every send side of a batch, then every
// receive side, then every sender's last step; phases 1 and 2 never wait for a peer.
// 1. Sender: checks the spec and makes the slot buffer.
ncclResult_t pluginNetPrepareSend(std::shared_ptr<NetPlugin> net, int dev,
                                  const PluginNetConnectionSpec& spec,
                                  std::unique_ptr<Connection>* out);
// 2. Receiver: listens; *handle is what its sender needs. From here on the connection's
//    helper thread accepts (bounded by setupTimeoutSec; a peer that never comes is a failure
//    that checkPeer reports).
ncclResult_t pluginNetListen(std::shared_ptr<NetPlugin> net, int dev,
                             const PluginNetConnectionSpec& spec, NetHandle* handle,
                             std::unique_ptr<Connection>* out);
// 3. Sender: connects with the receiver's handle and registers its buffer; returns once
//    connected (bounded by setupTimeoutSec and the abort flag).
ncclResult_t pluginNetConnect(Connection& sender, const NetHandle& handle);

}  // namespace tccl
