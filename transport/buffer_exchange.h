// How ranks that can address each other's memory (one machine, shared buffers) learn where
// the other ranks' buffers of an operation are, and wait for each other between phases.
// Implemented by a transport; used by direct algorithms.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tccl {

struct PeerBuffers {
  const char* send = nullptr;  // mapped in this process; nullptr when that rank's is not shareable
  char* recv = nullptr;
};

class BufferExchange {
 public:
  virtual ~BufferExchange() = default;
  // Announces this rank's buffers for operation `seq` (operations are numbered alike on all
  // ranks). Never blocks.
  virtual void publish(uint64_t seq, const void* send, size_t sendBytes, void* recv,
                       size_t recvBytes) = 0;
  // *ready once every rank has published `seq`; then `peers` holds every rank's buffers.
  virtual ncclResult_t tryCollect(uint64_t seq, std::vector<PeerBuffers>* peers, bool* ready) = 0;
  // Phase barrier: arrive, then poll until everybody has arrived.
  virtual void arrive(uint64_t seq, int phase) = 0;
  virtual bool allArrived(uint64_t seq, int phase) = 0;
  // For messages: the first rank that has not published `seq` (phase 0) or not arrived at
  // `phase`; -1 when none.
  virtual int firstMissing(uint64_t seq, int phase) = 0;
  virtual ncclResult_t checkPeers() = 0;
};

}  // namespace tccl
