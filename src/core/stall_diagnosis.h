// Why a group may not move: ranks of its communicators that run on this machine but are
// stopped (SIGSTOP, a debugger) or gone.
#pragma once

#include <string>
#include <vector>

#include "core/group.h"

namespace tccl {

// "rank 2 (pid 1234) is stopped, rank 3 (pid 1240) has exited", or "" when none is found.
std::string stoppedLocalRanks(const std::vector<CommWork>& all);

}  // namespace tccl
