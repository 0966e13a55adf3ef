// Turning the path database into a communicator's Plan, identically on every rank.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "plan/plan.h"

namespace tccl::db {

// The node type of `db` that `node` is (exact signature match, or `forcedName` when not
// empty: TCCL_DB_NODE). Returns -1 and says why in *why when there is none.
int matchNodeType(const Database& db, const NodeSignature& node, const std::string& forcedName,
                  std::string* why);

struct DbPlan {
  std::optional<Plan> plan;  // set when the database covers this job
  std::string whyNot;        // otherwise one line saying why, for the WARN
};

// The inter-node entry each node of a ring uses: node n's candidates are the entries of
// types[n] for GPU subset subsets[n], and chooseNodeChains picks (ties go to the first entries,
// so every rank and every tool picks the same). Empty, with *whyNot, when no ring closes;
// *gbps (optional) is the ring's bottleneck.
std::vector<const InterEntry*> chooseInterEntries(const std::vector<const NodeType*>& types,
                                                  const std::vector<std::vector<int>>& subsets,
                                                  double* gbps, std::string* whyNot);

// ranks[r].gpuIndex and ranks[r].dbNodeType say which GPU of which node type rank r plays.
// Intra-node: the rings of the entry for the GPU subset in use. Several nodes: node chains
// joined by dynamic programming on the bottleneck GB/s; trees from the chains.
DbPlan buildPlanFromDatabase(const Database& db, const std::string& sourceLabel,
                             const std::vector<RankInfo>& ranks, const JobShape& shape);

}  // namespace tccl::db
