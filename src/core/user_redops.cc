#include "core/user_redops.h"

namespace tccl {

std::optional<size_t> UserRedOps::add(const UserRedOp& op, size_t limit) {
  size_t index = 0;
  while (index < ops_.size() && ops_[index]) ++index;
  if (index >= limit) return std::nullopt;
  if (index == ops_.size()) ops_.emplace_back();
  ops_[index] = op;
  return index;
}

bool UserRedOps::remove(int64_t index) {
  if (!find(index)) return false;
  ops_[static_cast<size_t>(index)].reset();
  return true;
}

const UserRedOp* UserRedOps::find(int64_t index) const {
  if (index < 0 || index >= static_cast<int64_t>(ops_.size())) return nullptr;
  const std::optional<UserRedOp>& op = ops_[static_cast<size_t>(index)];
  return op ? &*op : nullptr;
}

}  // namespace tccl
