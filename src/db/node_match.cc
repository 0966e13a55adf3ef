// Which node type of the database a node is: exact signature match, or TCCL_DB_NODE.
#include <sstream>

#include "db/plan_from_db.h"

namespace tccl::db {
namespace {

// Imported TCCL XML carries no hardware identity: such a node type has an empty CPU model
// and empty bus ids, and matches any node with the same GPU and NUMA counts.
bool isCountOnlySignature(const NodeSignature& sig) {
  if (!sig.cpuModel.empty()) return false;
  for (const GpuSignature& g : sig.gpus)
    if (!g.busId.empty()) return false;
  return true;
}

bool matches(const NodeSignature& type, const NodeSignature& node) {
  if (isCountOnlySignature(type))
    return type.gpus.size() == node.gpus.size() && type.numaCount == node.numaCount;
  return type == node;
}

// The first difference between a node type's signature and the node, for the WARN line.
std::string firstDifference(const NodeSignature& type, const NodeSignature& node) {
  std::ostringstream out;
  if (isCountOnlySignature(type)) {
    out << "it has " << type.gpus.size() << " GPUs and " << type.numaCount
        << " NUMA nodes, this node " << node.gpus.size() << " and " << node.numaCount;
    return out.str();
  }
  if (type.cpuModel != node.cpuModel)
    out << "CPU \"" << type.cpuModel << "\" vs \"" << node.cpuModel << "\"";
  else if (type.numaCount != node.numaCount)
    out << type.numaCount << " NUMA nodes vs " << node.numaCount;
  else if (type.gpus.size() != node.gpus.size())
    out << type.gpus.size() << " GPUs vs " << node.gpus.size();
  else if (type.nics.size() != node.nics.size())
    out << type.nics.size() << " NICs vs " << node.nics.size();
  else {
    for (size_t i = 0; i < type.gpus.size(); ++i) {
      const GpuSignature &a = type.gpus[i], &b = node.gpus[i];
      if (a == b) continue;
      out << "GPU " << i << ": " << a.busId << " \"" << a.model << "\" NUMA " << a.numa << " vs "
          << b.busId << " \"" << b.model << "\" NUMA " << b.numa;
      return out.str();
    }
    for (size_t i = 0; i < type.nics.size(); ++i) {
      if (type.nics[i] == node.nics[i]) continue;
      out << "NIC " << i << ": " << type.nics[i].name << " NUMA " << type.nics[i].numa << " vs "
          << node.nics[i].name << " NUMA " << node.nics[i].numa;
      return out.str();
    }
  }
  return out.str();
}

}  // namespace

int matchNodeType(const Database& db, const NodeSignature& node, const std::string& forcedName,
                  std::string* why) {
  std::string reason;
  if (!forcedName.empty()) {
    for (size_t i = 0; i < db.nodes.size(); ++i)
      if (db.nodes[i].name == forcedName) return static_cast<int>(i);
    reason = "TCCL_DB_NODE=" + forcedName + ": the database has no node type of that name (it has";
    for (size_t i = 0; i < db.nodes.size(); ++i) reason += (i ? ", " : " ") + db.nodes[i].name;
    reason += ")";
  } else {
    for (size_t i = 0; i < db.nodes.size(); ++i)
      if (matches(db.nodes[i].signature, node)) return static_cast<int>(i);
    reason = "no node type matches this node (" + describeSignature(node) + ")";
    if (!db.nodes.empty())
      reason +=
          "; '" + db.nodes[0].name + "' differs: " + firstDifference(db.nodes[0].signature, node);
  }
  if (why) *why = reason;
  return -1;
}

}  // namespace tccl::db
