// The point-to-point connections a group needs, made before it runs and kept by the
// communicator for later groups.
#pragma once

#include <nccl.h>

#include <vector>

#include "core/group.h"

namespace tccl {

// Connects every (communicator, peer, direction) of `all` that is not connected yet.
ncclResult_t connectP2p(std::vector<CommWork>& all);

}  // namespace tccl
