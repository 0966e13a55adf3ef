// The PreMulSum operators a communicator's user created (ncclRedOpCreatePreMulSum), by index:
// op = ncclNumOps + index. A destroyed operator's index is given to the next one created.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace tccl {

struct UserRedOp {
  ncclDataType_t type = ncclFloat32;
  double scalar = 1.0;
  const void* scalarPtr = nullptr;  // ncclScalarDevice: read when the collective runs
};

class UserRedOps {
 public:
  // The index that now holds `op`; none when all `limit` indices are in use.
  std::optional<size_t> add(const UserRedOp& op, size_t limit);
  // False when `index` holds no operator (never created, or destroyed).
  bool remove(int64_t index);
  const UserRedOp* find(int64_t index) const;

 private:
  std::vector<std::optional<UserRedOp>> ops_;
};

}  // namespace tccl
