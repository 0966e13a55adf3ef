#include "exec/compile.h"

#include <algorithm>
#include <utility>

#include "base/datatype.h"
#include "base/error.h"
#include "base/log.h"
#include "exec/direct_allreduce.h"
#include "exec/tree_schedule.h"

namespace tccl {

const char* collName(CollKind kind) {
  switch (kind) {
    case CollKind::kAllReduce:
      return "AllReduce";
    case CollKind::kAllGather:
      return "AllGather";
    case CollKind::kReduceScatter:
      return "ReduceScatter";
    case CollKind::kBroadcast:
      return "Broadcast";
    case CollKind::kReduce:
      return "Reduce";
  }
  return "collective";
}

ncclResult_t compileCollective(const CollTask& task, const CollTarget& target, Program* out) {
  const CollArgs& args = task.args;
  const int rank = target.channels.rank;
  Program& prog = *out;
  prog.spec = task.spec;
  prog.elemSize = dataTypeSize(task.spec.type);
  const size_t chunkElems = target.chunkBytes / prog.elemSize;
  const std::vector<TreeView> trees = treeViews(target.channels);
  const bool tree = useTreeAlgorithm(args.kind, args.count * prog.elemSize, target.shape,
                                     target.algo, target.treeMaxBytes, !trees.empty());
  INFO(kLogColl, "rank %d: collective %d count %zu datatype %d algo %s", rank,
       static_cast<int>(args.kind), args.count, static_cast<int>(task.spec.type),
       tree ? "Tree" : "Ring");
  prog.what = std::string(collName(args.kind)) + " of " + std::to_string(args.count) + " x " +
              dataTypeName(task.spec.type) + (tree ? " (Tree)" : " (Ring)");
  if (tree)
    TCCL_CHECK(buildTreeProgram(args, trees, chunkElems, target.device, &prog));
  else
    buildRingProgram(args, ringViews(target.channels), chunkElems, &prog);
  if (args.kind == CollKind::kAllReduce && target.exchange)
    prog.custom = makeDirectAllReduce(*target.exchange, target.device, ++*target.directSeq, rank,
                                      target.shape.nRanks, args.sendbuff, args.recvbuff, args.count,
                                      task.spec);
  return ncclSuccess;
}

void compileP2p(const std::vector<P2pTask>& tasks,
                const std::map<int, std::unique_ptr<Connection>>& send,
                const std::map<int, std::unique_ptr<Connection>>& recv, size_t chunkBytes,
                Program* out) {
  std::map<std::pair<int, bool>, size_t> laneOf;
  for (const P2pTask& t : tasks) {
    const size_t elemSize = dataTypeSize(t.type);
    auto key = std::make_pair(t.peer, t.isSend);
    auto [it, inserted] = laneOf.try_emplace(key, out->lanes.size());
    if (inserted) {
      Lane lane;
      if (t.isSend)
        lane.sendConn = send.at(t.peer).get();
      else
        lane.recvConn = recv.at(t.peer).get();
      out->lanes.push_back(std::move(lane));
    }
    if (t.keepAlive) out->keepAlive.push_back(t.keepAlive);
    Lane& lane = out->lanes[it->second];
    // Steps count bytes here: one program carries several datatypes.
    const size_t bytes = t.count * elemSize;
    char* base = static_cast<char*>(t.buff);
    for (size_t off = 0; off < bytes; off += chunkBytes) {
      Step s;
      s.count = std::min(chunkBytes, bytes - off);
      if (t.isSend) {
        s.local = base + off;
        s.send = true;
      } else {
        s.out = base + off;
        s.recv = true;
      }
      lane.steps.push_back(s);
    }
  }
  out->elemSize = 1;
  out->spec.type = ncclUint8;
}

}  // namespace tccl
