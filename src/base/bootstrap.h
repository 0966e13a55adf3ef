// Per-rank out-of-band channel: rendezvous through the root, then tagged point-to-point
// messages over TCP, allgather and barrier. Used at init and for connection setup.
#pragma once

#include <nccl.h>

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/bootstrap_inbox.h"
#include "base/bootstrap_wire.h"

namespace tccl {

// Fills an ncclUniqueId: NCCL_COMM_ID=host:port when set and honoured (rank 0 will host the
// root), otherwise a root server started right here on a free port.
ncclResult_t createUniqueId(ncclUniqueId* id, double timeoutSec, bool honourCommIdEnv);
ncclResult_t decodeUniqueId(const ncclUniqueId& id, UniqueIdContent* out);

class Bootstrap {
 public:
  static ncclResult_t create(const ncclUniqueId& id, int rank, int nranks, double timeoutSec,
                             std::unique_ptr<Bootstrap>* out);

  int rank() const { return rank_; }
  int nranks() const { return nranks_; }
  // Differs from job to job even when NCCL_COMM_ID is reused, and cannot be guessed by others
  // (it comes from the root's random job key): names shared-memory segments, and net hops
  // check it in their greeting.
  uint64_t jobHash() const { return jobHash_; }
  // Where this rank's listener accepts the other ranks' messages.
  const SocketAddress& listenAddress() const { return listenAddress_; }

  // Every wait for a peer also serves this rank's listener, so ranks that all send before
  // they receive cannot deadlock, however many messages they send.
  ncclResult_t send(int peer, uint32_t tag, const void* data, size_t bytes);
  // Receives exactly `bytes`; a message of another size from that peer and tag is an error.
  ncclResult_t recv(int peer, uint32_t tag, void* data, size_t bytes);
  // data holds nranks slots of bytesPerRank; this rank's slot is filled in.
  ncclResult_t allGather(void* data, size_t bytesPerRank);
  ncclResult_t barrier();

 private:
  struct Message {
    int peer;
    uint32_t tag;
    std::vector<char> data;
  };
  Bootstrap() = default;
  // Serves the listener until `until` or until `extra` is ready; delivers completed messages
  // in each sender's order.
  ncclResult_t pump(Deadline until, pollfd* extra);

  int rank_ = 0;
  int nranks_ = 0;
  JobSecret helloSecret_;  // of the unique id: names this job's root, if this process hosts it
  JobSecret jobKey_;
  uint64_t jobHash_ = 0;
  double timeoutSec_ = 120;
  uint32_t collTag_ = 0;
  SocketAddress listenAddress_;
  std::unique_ptr<BootstrapInbox> inbox_;
  std::vector<PackedAddress> peers_;
  std::vector<uint32_t> sendSeq_, recvSeq_;            // per peer
  std::map<std::pair<int, uint32_t>, Message> early_;  // (peer, seq) that came before their turn
  std::list<Message> unexpected_;                      // delivered in order, not yet asked for
  std::mutex mutex_;
};

}  // namespace tccl
