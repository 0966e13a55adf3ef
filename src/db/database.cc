#include "db/database.h"

namespace tccl::db {

const NodeType* findNodeType(const Database& db, const std::string& name) {
  for (const NodeType& node : db.nodes)
    if (node.name == name) return &node;
  return nullptr;
}

}  // namespace tccl::db
