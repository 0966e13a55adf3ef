#include "exec/ring_schedule.h"

#include <algorithm>

namespace tccl {
namespace {

// Byte-addressed view of a user buffer.
struct Buf {
  Buf(const void* buffer, size_t elementSize)
      : base(static_cast<const char*>(buffer)), elemSize(elementSize) {}
  const char* base;
  size_t elemSize;
  const char* at(size_t elem) const { return base ? base + elem * elemSize : nullptr; }
  char* mut(size_t elem) const { return const_cast<char*>(at(elem)); }
};

int mod(int a, int n) {
  return ((a % n) + n) % n;
}

void addStep(Lane& lane, Step s) {
  if (s.count > 0) lane.steps.push_back(s);
}

// Reduce-scatter then all-gather around the ring, one slice of n chunks at a time.
void allReduceLane(const CollArgs& a, const RingView& ring, size_t lo, size_t hi, size_t chunkElems,
                   size_t elemSize, Lane& lane) {
  const int n = static_cast<int>(ring.order.size()), p = ring.position;
  const Buf in{a.sendbuff, elemSize}, out{a.recvbuff, elemSize};
  if (n == 1) {
    addStep(lane, {.local = in.at(lo),
                   .out = out.mut(lo),
                   .count = hi - lo,
                   .scaleLocal = true,
                   .finalize = true});
    return;
  }
  const size_t sliceElems = chunkElems * n;
  for (size_t base = lo; base < hi; base += sliceElems) {
    const size_t slice = std::min(sliceElems, hi - base);
    auto start = [&](int c) { return base + slice * static_cast<size_t>(c) / n; };
    auto len = [&](int c) { return start(c + 1) - start(c); };
    auto chunk = [&](int c) { return mod(c, n); };
    int c = chunk(p);
    addStep(lane, {.local = in.at(start(c)), .count = len(c), .send = true, .scaleLocal = true});
    for (int k = 1; k < n - 1; ++k) {
      c = chunk(p - k);
      addStep(lane, {.local = in.at(start(c)),
                     .count = len(c),
                     .recv = true,
                     .send = true,
                     .scaleLocal = true});
    }
    c = chunk(p + 1);
    addStep(lane, {.local = in.at(start(c)),
                   .out = out.mut(start(c)),
                   .count = len(c),
                   .recv = true,
                   .send = true,
                   .scaleLocal = true,
                   .finalize = true});
    for (int j = 1; j < n - 1; ++j) {
      c = chunk(p + 1 - j);
      addStep(lane, {.out = out.mut(start(c)), .count = len(c), .recv = true, .send = true});
    }
    c = chunk(p + 2);
    addStep(lane, {.out = out.mut(start(c)), .count = len(c), .recv = true});
  }
}

// A chain from the root (broadcast) or towards it (reduce), pipelined chunk by chunk.
void chainLane(const CollArgs& a, const RingView& ring, size_t lo, size_t hi, size_t chunkElems,
               size_t elemSize, Lane& lane) {
  const int n = static_cast<int>(ring.order.size());
  const int rootPos = static_cast<int>(std::find(ring.order.begin(), ring.order.end(), a.root) -
                                       ring.order.begin());
  const bool reduce = a.kind == CollKind::kReduce;
  // Broadcast flows root -> root+1 -> ...; reduce flows root+1 -> ... -> root.
  const int d = reduce ? mod(ring.position - rootPos - 1, n) : mod(ring.position - rootPos, n);
  const bool first = d == 0, last = d == n - 1;
  const Buf in{a.sendbuff, elemSize}, out{a.recvbuff, elemSize};
  for (size_t b = lo; b < hi; b += chunkElems) {
    const size_t len = std::min(chunkElems, hi - b);
    Step s;
    s.count = len;
    s.recv = !first;
    s.send = !last;
    if (reduce) {
      s.local = in.at(b);
      s.scaleLocal = true;
      if (last) {
        s.out = out.mut(b);
        s.finalize = true;
      }
    } else if (first) {
      s.local = in.at(b);
      if (out.at(b) != in.at(b)) s.out = out.mut(b);
    } else {
      s.out = out.mut(b);
    }
    addStep(lane, s);
  }
}

void allGatherLane(const CollArgs& a, const RingView& ring, size_t lo, size_t hi, size_t chunkElems,
                   size_t elemSize, Lane& lane) {
  const int n = static_cast<int>(ring.order.size()), p = ring.position;
  const Buf in{a.sendbuff, elemSize}, out{a.recvbuff, elemSize};
  auto blockOf = [&](int pos) { return static_cast<size_t>(ring.order[mod(pos, n)]) * a.count; };
  for (size_t b = lo; b < hi; b += chunkElems) {
    const size_t len = std::min(chunkElems, hi - b);
    char* own = out.mut(blockOf(p) + b);
    addStep(
        lane,
        {.local = in.at(b), .out = own == in.at(b) ? nullptr : own, .count = len, .send = n > 1});
    for (int k = 1; k < n; ++k)
      addStep(lane,
              {.out = out.mut(blockOf(p - k) + b), .count = len, .recv = true, .send = k < n - 1});
  }
}

void reduceScatterLane(const CollArgs& a, const RingView& ring, size_t lo, size_t hi,
                       size_t chunkElems, size_t elemSize, Lane& lane) {
  const int n = static_cast<int>(ring.order.size()), p = ring.position;
  const Buf in{a.sendbuff, elemSize}, out{a.recvbuff, elemSize};
  auto blockOf = [&](int pos) { return static_cast<size_t>(ring.order[mod(pos, n)]) * a.count; };
  for (size_t b = lo; b < hi; b += chunkElems) {
    const size_t len = std::min(chunkElems, hi - b);
    for (int k = 0; k < n - 1; ++k)
      addStep(lane, {.local = in.at(blockOf(p - k - 1) + b),
                     .count = len,
                     .recv = k > 0,
                     .send = true,
                     .scaleLocal = true});
    addStep(lane, {.local = in.at(blockOf(p) + b),
                   .out = out.mut(b),
                   .count = len,
                   .recv = n > 1,
                   .scaleLocal = true,
                   .finalize = true});
  }
}

}  // namespace

void buildRingProgram(const CollArgs& args, const std::vector<RingView>& rings, size_t chunkElems,
                      Program* program) {
  const size_t nch = rings.size();
  chunkElems = std::max<size_t>(chunkElems, 1);
  for (size_t c = 0; c < nch; ++c) {
    const RingView& ring = rings[c];
    Lane lane;
    lane.recvConn = ring.recv;
    lane.sendConn = ring.send;
    // Each channel takes a contiguous share: of the whole buffer, or of every rank's block.
    const size_t lo = args.count * c / nch, hi = args.count * (c + 1) / nch;
    switch (args.kind) {
      case CollKind::kAllReduce:
        allReduceLane(args, ring, lo, hi, chunkElems, program->elemSize, lane);
        break;
      case CollKind::kBroadcast:
      case CollKind::kReduce:
        chainLane(args, ring, lo, hi, chunkElems, program->elemSize, lane);
        break;
      case CollKind::kAllGather:
        allGatherLane(args, ring, lo, hi, chunkElems, program->elemSize, lane);
        break;
      case CollKind::kReduceScatter:
        reduceScatterLane(args, ring, lo, hi, chunkElems, program->elemSize, lane);
        break;
    }
    program->lanes.push_back(std::move(lane));
  }
}

}  // namespace tccl
