#include "exec/tree_schedule.h"

#include <algorithm>

#include "base/error.h"

namespace tccl {
namespace {

int rootOf(const Tree& tree) {
  for (size_t r = 0; r < tree.parent.size(); ++r)
    if (tree.parent[r] < 0) return static_cast<int>(r);
  return 0;
}

// This rank's place in the tree re-rooted at `root`: the neighbour towards the root (-1 at
// the root) and the others, as indices into TreeView::neighbors.
struct Oriented {
  int up = -1;
  std::vector<int> down;
};

Oriented orient(const TreeView& v, int root) {
  int towards = -1;  // the neighbour on the path to `root`
  if (root != v.rank) {
    towards = v.tree->parent[v.rank];
    // If `root` lies below this rank, the path leaves through the child above it.
    for (int r = root; r >= 0; r = v.tree->parent[r])
      if (v.tree->parent[r] == v.rank) {
        towards = r;
        break;
      }
  }
  Oriented o;
  for (size_t i = 0; i < v.neighbors.size(); ++i) {
    if (v.neighbors[i] == towards)
      o.up = static_cast<int>(i);
    else
      o.down.push_back(static_cast<int>(i));
  }
  return o;
}

struct Buf {
  const char* base;
  size_t elemSize;
  char* at(size_t elem) const { return base ? const_cast<char*>(base) + elem * elemSize : nullptr; }
};

void addStep(Lane& lane, const Step& s) {
  if (s.count > 0 && (s.out || s.send)) lane.steps.push_back(s);
}

struct TreeChunk {
  const TreeView& v;
  const Oriented& o;
  Buf in, out, scratch;
  size_t b, len;
};

// Children's partial sums are folded in one at a time (through scratch); the last fold goes to
// the parent, or at the root into the output (and, for AllReduce, down to the first child).
void reduceSteps(const TreeChunk& c, bool thenBroadcast, Lane& lane) {
  const size_t k = c.o.down.size();
  const bool root = c.o.up < 0;
  Step last;
  last.count = c.len;
  if (k == 0) {
    last.local = c.in.at(c.b);
    last.scaleLocal = true;
  }
  for (size_t j = 0; j < k; ++j) {
    Step s;
    s.count = c.len;
    s.local = j == 0 ? c.in.at(c.b) : c.scratch.at(c.b);
    s.scaleLocal = j == 0;
    s.recv = true;
    s.recvConn = c.v.recv[c.o.down[j]];
    if (j + 1 < k) {
      s.out = c.scratch.at(c.b);
      addStep(lane, s);
    } else {
      last = s;
    }
  }
  if (!root) {
    last.send = true;
    last.sendConn = c.v.send[c.o.up];
    addStep(lane, last);
    return;
  }
  last.out = c.out.at(c.b);
  last.finalize = true;
  if (thenBroadcast && k > 0) {
    last.send = true;
    last.sendConn = c.v.send[c.o.down[0]];
  }
  addStep(lane, last);
  if (thenBroadcast)
    for (size_t j = 1; j < k; ++j) {
      Step s;
      s.count = c.len;
      s.local = c.out.at(c.b);
      s.send = true;
      s.sendConn = c.v.send[c.o.down[j]];
      addStep(lane, s);
    }
}

// Receive from the parent (or read the input at the root) into the output and pass it on.
void broadcastSteps(const TreeChunk& c, Lane& lane) {
  const size_t k = c.o.down.size();
  Step first;
  first.count = c.len;
  if (c.o.up < 0) {
    first.local = c.in.at(c.b);
    if (c.out.at(c.b) != c.in.at(c.b)) first.out = c.out.at(c.b);
  } else {
    first.recv = true;
    first.recvConn = c.v.recv[c.o.up];
    first.out = c.out.at(c.b);
  }
  const void* source = first.out ? first.out : first.local;
  if (k > 0) {
    first.send = true;
    first.sendConn = c.v.send[c.o.down[0]];
  }
  addStep(lane, first);
  for (size_t j = 1; j < k; ++j) {
    Step s;
    s.count = c.len;
    s.local = source;
    s.send = true;
    s.sendConn = c.v.send[c.o.down[j]];
    addStep(lane, s);
  }
}

}  // namespace

std::vector<int> treeNeighbors(const Tree& tree, int rank) {
  std::vector<int> n;
  n.reserve(tree.children[rank].size() + 1);
  if (tree.parent[rank] >= 0) n.push_back(tree.parent[rank]);
  // A loop, not insert(): GCC 12 warns falsely (-Wstringop-overflow) on the insert.
  for (int child : tree.children[rank]) n.push_back(child);
  return n;
}

bool treesWanted(const Plan& plan, const JobShape& shape, const std::string& algo) {
  if (shape.nRanks < 2 || plan.trees.empty() || algo == "ring") return false;
  return algo == "tree" || shape.nodeRanks.size() >= 2;
}

bool useTreeAlgorithm(CollKind kind, size_t bytes, const JobShape& shape, const std::string& algo,
                      size_t treeMaxBytes, bool treesConnected) {
  if (!treesConnected) return false;
  if (kind != CollKind::kAllReduce && kind != CollKind::kBroadcast && kind != CollKind::kReduce)
    return false;
  if (algo == "tree") return true;
  if (algo == "ring") return false;
  return shape.nodeRanks.size() >= 2 && bytes <= treeMaxBytes;
}

ncclResult_t buildTreeProgram(const CollArgs& args, const std::vector<TreeView>& trees,
                              size_t chunkElems, DeviceBackend& device, Program* program) {
  chunkElems = std::max<size_t>(chunkElems, 1);
  const size_t nt = trees.size();
  const size_t elemSize = program->elemSize;
  std::vector<Oriented> oriented;
  bool needScratch = false;
  for (const TreeView& v : trees) {
    const int root = args.kind == CollKind::kAllReduce ? rootOf(*v.tree) : args.root;
    oriented.push_back(orient(v, root));
    if (args.kind != CollKind::kBroadcast && oriented.back().down.size() >= 2) needScratch = true;
  }
  if (needScratch) TCCL_CHECK(device.allocScratch(args.count * elemSize, &program->scratch));
  Buf in{static_cast<const char*>(args.sendbuff), elemSize};
  Buf out{static_cast<const char*>(args.recvbuff), elemSize};
  Buf scratch{static_cast<const char*>(program->scratch.get()), elemSize};
  for (size_t t = 0; t < nt; ++t) {
    const TreeView& v = trees[t];
    const Oriented& o = oriented[t];
    const size_t lo = args.count * t / nt, hi = args.count * (t + 1) / nt;
    // AllReduce below the root runs two lanes: partial sums go up while results come down.
    Lane up, down;
    for (size_t b = lo; b < hi; b += chunkElems) {
      TreeChunk c{v, o, in, out, scratch, b, std::min(chunkElems, hi - b)};
      switch (args.kind) {
        case CollKind::kAllReduce:
          reduceSteps(c, /*thenBroadcast=*/true, up);
          if (o.up >= 0) broadcastSteps(c, down);
          break;
        case CollKind::kReduce:
          reduceSteps(c, /*thenBroadcast=*/false, up);
          break;
        case CollKind::kBroadcast:
          broadcastSteps(c, down);
          break;
        default:
          break;
      }
    }
    for (Lane* lane : {&up, &down})
      if (!lane->steps.empty()) program->lanes.push_back(std::move(*lane));
  }
  return ncclSuccess;
}

}  // namespace tccl
