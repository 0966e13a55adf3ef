#include "db/database.h"

#include <sstream>

namespace tccl::db {

const NodeType* findNodeType(const Database& db, const std::string& name) {
  for (const NodeType& node : db.nodes)
    if (node.name == name) return &node;
  return nullptr;
}

std::string listGpus(const std::vector<int>& gpus, const char (&brackets)[3]) {
  std::ostringstream out;
  out << brackets[0];
  for (size_t i = 0; i < gpus.size(); ++i) out << (i ? "," : "") << gpus[i];
  out << brackets[1];
  return out.str();
}

}  // namespace tccl::db
