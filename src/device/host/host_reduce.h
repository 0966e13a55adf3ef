// CPU reduction: one template instantiated for every (datatype, op) through a table.
#pragma once

#include "device/device_backend.h"

namespace tccl {

ncclResult_t hostReduceCopy(const ReduceSpec& spec, const DataStep& step);

}  // namespace tccl
