// Which node a rank is on: a hash of the host name and boot id (NCCL_HOSTID replaces both,
// which lets tests play several nodes on one machine).
#pragma once

#include <cstdint>

namespace tccl {

uint64_t physicalHostHash();
uint64_t hostHash();

}  // namespace tccl
