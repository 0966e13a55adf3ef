#include "exec/direct_allreduce.h"

#include <string>

#include "base/datatype.h"

namespace tccl {
namespace {

class DirectAllReduce final : public CustomOp {
 public:
  DirectAllReduce(BufferExchange& exchange, DeviceBackend& device, uint64_t seq, int rank,
                  int nranks, const void* send, void* recv, size_t count, const ReduceSpec& spec)
      : exchange_(exchange),
        device_(device),
        seq_(seq),
        rank_(rank),
        n_(nranks),
        send_(send),
        recv_(recv),
        count_(count),
        spec_(spec),
        elem_(dataTypeSize(spec.type)) {}

  ncclResult_t progress(bool* progressed, Outcome* outcome) override {
    *outcome = Outcome::kRunning;
    switch (state_) {
      case State::kPublish:
        exchange_.publish(seq_, send_, count_ * elem_, recv_, count_ * elem_);
        state_ = State::kCollect;
        *progressed = true;
        [[fallthrough]];
      case State::kCollect: {
        bool ready = false;
        if (ncclResult_t r = exchange_.tryCollect(seq_, &peers_, &ready); r != ncclSuccess)
          return r;
        if (!ready) return ncclSuccess;
        *progressed = true;
        for (const PeerBuffers& p : peers_)
          if (!p.send || !p.recv) {
            *outcome = Outcome::kUseLanes;  // every rank sees the same table: all fall back
            return ncclSuccess;
          }
        if (ncclResult_t r = reduceOwnChunk(); r != ncclSuccess) return r;
        exchange_.arrive(seq_, 1);
        state_ = State::kReduced;
        [[fallthrough]];
      }
      case State::kReduced:
        if (!exchange_.allArrived(seq_, 1)) return ncclSuccess;
        if (ncclResult_t r = gatherOtherChunks(); r != ncclSuccess) return r;
        exchange_.arrive(seq_, 2);
        state_ = State::kGathered;
        *progressed = true;
        [[fallthrough]];
      case State::kGathered:
        // Nobody may reuse its output before all peers have copied from it.
        if (!exchange_.allArrived(seq_, 2)) return ncclSuccess;
        *progressed = true;
        *outcome = Outcome::kDone;
        return ncclSuccess;
    }
    return ncclSuccess;
  }

  ncclResult_t checkPeers() override { return exchange_.checkPeers(); }

  std::string describeWait() override {
    const int phase = state_ == State::kCollect ? 0 : state_ == State::kReduced ? 1 : 2;
    const int r = exchange_.firstMissing(seq_, phase);
    if (r < 0) return "direct algorithm, phase " + std::to_string(phase);
    static const char* const kWhat[] = {"has not started it", "has not reduced its chunk",
                                        "has not copied the result"};
    return "rank " + std::to_string(r) + " made no progress: it " + kWhat[phase] +
           " (direct algorithm over shared buffers)";
  }

 private:
  enum class State { kPublish, kCollect, kReduced, kGathered };

  size_t chunkStart(int c) const { return count_ * static_cast<size_t>(c) / n_; }

  // Own input first: in place, the output chunk aliases it and is overwritten from step one.
  ncclResult_t reduceOwnChunk() {
    const size_t lo = chunkStart(rank_), len = chunkStart(rank_ + 1) - lo;
    if (len == 0) return ncclSuccess;
    char* out = static_cast<char*>(recv_) + lo * elem_;
    const char* mine = static_cast<const char*>(send_) + lo * elem_;
    DataStep first{
        .local = mine, .out0 = out, .count = len, .scaleLocal = true, .finalize = n_ == 1};
    if (ncclResult_t r = device_.run(spec_, first); r != ncclSuccess) return r;
    int done = 1;
    for (int r = 0; r < n_; ++r) {
      if (r == rank_) continue;
      ++done;
      DataStep step{.local = peers_[r].send + lo * elem_,
                    .received = out,
                    .out0 = out,
                    .count = len,
                    .scaleLocal = true,
                    .finalize = done == n_};
      if (ncclResult_t res = device_.run(spec_, step); res != ncclSuccess) return res;
    }
    return ncclSuccess;
  }

  ncclResult_t gatherOtherChunks() {
    for (int r = 0; r < n_; ++r) {
      if (r == rank_) continue;
      const size_t lo = chunkStart(r), len = chunkStart(r + 1) - lo;
      DataStep copy{.received = peers_[r].recv + lo * elem_,
                    .out0 = static_cast<char*>(recv_) + lo * elem_,
                    .count = len};
      if (ncclResult_t res = device_.run(spec_, copy); res != ncclSuccess) return res;
    }
    return ncclSuccess;
  }

  BufferExchange& exchange_;
  DeviceBackend& device_;
  uint64_t seq_;
  int rank_, n_;
  const void* send_;
  void* recv_;
  size_t count_;
  ReduceSpec spec_;
  size_t elem_;
  State state_ = State::kPublish;
  std::vector<PeerBuffers> peers_;
};

}  // namespace

std::unique_ptr<CustomOp> makeDirectAllReduce(BufferExchange& exchange, DeviceBackend& device,
                                              uint64_t seq, int rank, int nranks,
                                              const void* sendbuff, void* recvbuff, size_t count,
                                              const ReduceSpec& spec) {
  return std::make_unique<DirectAllReduce>(exchange, device, seq, rank, nranks, sendbuff, recvbuff,
                                           count, spec);
}

}  // namespace tccl
