#include <iomanip>
#include <sstream>

#include "db/db_report.h"
#include "db/node_chain_dp.h"
#include "db/plan_from_db.h"

namespace tccl::db {

namespace {

// The database index of each node's type (nodeTypes cycled; empty: the first type), or a
// message naming a type the database lacks.
bool resolveNodeTypes(const Database& db, int nodes, const std::vector<std::string>& nodeTypes,
                      std::vector<int>* typeOf, std::ostream& out) {
  typeOf->assign(nodes, 0);
  for (int n = 0; n < nodes && !nodeTypes.empty(); ++n) {
    const std::string& name = nodeTypes[n % nodeTypes.size()];
    (*typeOf)[n] = -1;
    for (size_t t = 0; t < db.nodes.size(); ++t)
      if (db.nodes[t].name == name) (*typeOf)[n] = static_cast<int>(t);
    if ((*typeOf)[n] < 0) {
      out << "no node type named '" << name << "'\n";
      return false;
    }
  }
  return true;
}

// The ranks of the job, GPUs 0..gpusPerNode-1 of each node, as the runtime would see them.
void layOutRanks(const std::vector<int>& typeOf, int gpusPerNode, std::vector<RankInfo>* ranks,
                 JobShape* shape) {
  const int nodes = static_cast<int>(typeOf.size());
  for (int n = 0; n < nodes; ++n) {
    shape->nodeRanks.emplace_back();
    for (int g = 0; g < gpusPerNode; ++g) {
      RankInfo r;
      r.rank = shape->nRanks++;
      r.hostHash = static_cast<uint64_t>(n);
      r.gpuIndex = g;
      r.dbNodeType = typeOf[n];
      shape->nodeOf.push_back(n);
      shape->localRankOf.push_back(g);
      shape->nodeRanks[n].push_back(r.rank);
      ranks->push_back(r);
    }
  }
}

std::vector<int> firstGpus(int gpusPerNode) {
  std::vector<int> subset;
  for (int g = 0; g < gpusPerNode; ++g) subset.push_back(g);
  return subset;
}

// The inter-node chains the dynamic program chooses from, per node type.
void describeChainCandidates(const Database& db, const std::vector<int>& typeOf, int gpusPerNode,
                             std::ostream& out) {
  const std::vector<int> subset = firstGpus(gpusPerNode);
  for (size_t n = 0; n < typeOf.size(); ++n) {
    if (n > 0 && typeOf[n] == typeOf[n - 1]) continue;
    const NodeType& t = db.nodes[typeOf[n]];
    out << "  inter-node chains of '" << t.name << "' for these GPUs:\n";
    int count = 0;
    for (const InterEntry& e : t.inter) {
      if (e.gpus != subset) continue;
      ++count;
      out << "    " << std::setw(8) << e.gbps << " GB/s  entry " << describeHop(e.entry)
          << " (code " << entryCode(e.entry) << "), exit " << describeHop(e.exit) << " (code "
          << exitCode(e.exit) << ")\n";
    }
    if (count == 0) out << "    (none)\n";
  }
  out << "  nodes are chained by the entry whose entry code equals the previous node's exit "
         "code, maximising the bottleneck GB/s\n";
}

// The GB/s the database gives the whole job: the node's ring, or the best chain of nodes.
double jobBottleneck(const Database& db, const std::vector<int>& typeOf, int gpusPerNode) {
  const int nodes = static_cast<int>(typeOf.size());
  double bottleneck = 0;
  const std::vector<int> subset = firstGpus(gpusPerNode);
  if (nodes == 1) {
    for (const IntraEntry& e : db.nodes[typeOf[0]].intra)
      if (e.gpus == subset) bottleneck = e.gbps;
  } else {
    std::vector<const NodeType*> types;
    for (int n = 0; n < nodes; ++n) types.push_back(&db.nodes[typeOf[n]]);
    std::string why;
    chooseInterEntries(types, std::vector<std::vector<int>>(nodes, subset), &bottleneck, &why);
  }
  return bottleneck;
}

void describeChannelsAndTrees(const Plan& plan, std::ostream& out) {
  for (size_t c = 0; c < plan.rings.size(); ++c) {
    const Ring& r = plan.rings[c];
    out << "  channel " << c << ":";
    for (size_t i = 0; i < r.order.size(); ++i)
      out << " " << r.order[i] << " -[" << describeHop(r.hops[i]) << "]->";
    out << " " << r.order[0] << "\n";
  }
  for (size_t t = 0; t < plan.trees.size(); ++t) {
    const Tree& tree = plan.trees[t];
    out << "  tree " << t << " (rank<-parent):";
    for (size_t r = 0; r < tree.parent.size(); ++r) {
      out << " " << r << "<-";
      if (tree.parent[r] < 0)
        out << "root";
      else
        out << tree.parent[r];
    }
    out << "\n";
  }
}

// Each NIC hop of the rings and what would carry it.
void describeNicHops(const Plan& plan, const std::function<std::string(int nic)>& nicCarrier,
                     std::ostream& out) {
  out << "NIC hops:\n";
  int count = 0;
  for (size_t c = 0; c < plan.rings.size(); ++c) {
    const Ring& r = plan.rings[c];
    for (size_t i = 0; i < r.order.size(); ++i) {
      const Hop& hop = r.hops[i];
      if (hop.kind != HopKind::kNet) continue;
      ++count;
      out << "  channel " << c << ": " << r.order[i] << " -[" << describeHop(hop) << "]-> "
          << r.order[(i + 1) % r.order.size()] << " through " << nicCarrier(hop.nic) << "\n";
    }
  }
  if (count == 0) out << "  (none: the job stays on one node)\n";
}

}  // namespace

std::string explainJob(const Database& db, int nodes, int gpusPerNode,
                       const std::vector<std::string>& nodeTypes, bool* ok,
                       const std::function<std::string(int nic)>& nicCarrier) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  if (ok) *ok = false;
  if (nodes < 1 || gpusPerNode < 1 || nodes > 4096 || gpusPerNode > 64) {
    out << "job shape " << nodes << " x " << gpusPerNode << " is not supported\n";
    return out.str();
  }
  if (db.nodes.empty()) return "the database has no node types\n";
  std::vector<int> typeOf;
  if (!resolveNodeTypes(db, nodes, nodeTypes, &typeOf, out)) return out.str();
  std::vector<RankInfo> ranks;
  JobShape shape;
  layOutRanks(typeOf, gpusPerNode, &ranks, &shape);
  out << "job: " << nodes << " node(s) x " << gpusPerNode << " GPU(s) (GPUs 0.." << gpusPerNode - 1
      << " of each node)\n";
  for (int n = 0; n < nodes; ++n)
    out << "  node " << n << ": node type '" << db.nodes[typeOf[n]].name << "'\n";
  if (nodes > 1) describeChainCandidates(db, typeOf, gpusPerNode, out);

  const DbPlan plan = buildPlanFromDatabase(db, "explain", ranks, shape);
  if (!plan.plan) {
    out << "no plan from this database: " << plan.whyNot << "\n(the runtime would WARN and use "
        << "the default plan; with TCCL_DB_STRICT=1 init fails)\n";
    return out.str();
  }
  if (ok) *ok = true;
  out << "plan: " << plan.plan->rings.size() << " channel(s), bottleneck "
      << jobBottleneck(db, typeOf, gpusPerNode) << " GB/s\n";
  describeChannelsAndTrees(*plan.plan, out);
  if (nicCarrier) describeNicHops(*plan.plan, nicCarrier, out);
  return out.str();
}

}  // namespace tccl::db
