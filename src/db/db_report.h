// Human-readable views of a database for tccl-db: show, explain, draw, merge.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/db_json.h"

namespace tccl::db {

// `tccl-db show`: provenance, each node type's signature, rings and chains with hop kinds and
// GB/s. nodeName empty: every node type.
std::string showDatabase(const Database& db, const std::string& nodeName = "");

// `tccl-db explain`: the plan a job of `nodes` x `gpusPerNode` ranks (GPUs 0..gpusPerNode-1 of
// each node) would get, and why. nodeTypes names the node type of each node, cycled (empty:
// the first node type everywhere). Returns false in *ok when the database does not cover it.
// With `nicCarrier`, a last section names for each NIC hop of the rings what would carry it
// (nicCarrier(the hop's NIC index), e.g. a net plugin's device).
std::string explainJob(const Database& db, int nodes, int gpusPerNode,
                       const std::vector<std::string>& nodeTypes, bool* ok = nullptr,
                       const std::function<std::string(int nic)>& nicCarrier = {});

// `tccl-db draw`: Graphviz DOT of one node type: NUMA nodes (with their host memory), GPUs,
// NICs, and the rings of the intra entry for `gpus` (empty: the largest subset) drawn on it,
// one colour per channel; bounces go through the host memory of their NUMA node.
std::string drawNodeDot(const NodeType& node, const std::vector<int>& gpus = {});

// `tccl-db merge`: all node types of all inputs in one database; a node type name that occurs
// twice is an error naming both inputs.
LoadResult mergeDatabases(const std::vector<Database>& inputs,
                          const std::vector<std::string>& inputNames);

}  // namespace tccl::db
