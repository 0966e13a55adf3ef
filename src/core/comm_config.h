// ncclConfig_t as callers built against any nccl.h lay it out: the struct grew from 24 bytes
// (NCCL 2.14) to 48 (2.17-2.26), 72 (2.27), 80 (2.28), 88 (2.29) and 96 (2.30). Like NCCL's
// parseCommConfig, only the fields that the caller's `size` and `version` cover are read.
#pragma once

#include <nccl.h>

#include <cstddef>

namespace tccl {

// The oldest layout (NCCL 2.14: size, magic, version, blocking), padded.
inline constexpr size_t kOldestConfigSize = 24;

// Reads `config` (never past config->size bytes), defaults what the caller's layout or version
// lacks, and checks the values. NULL gives the defaults. Fails with ncclInvalidArgument on a
// bad magic, a size below kOldestConfigSize or an invalid field value. *out has this
// library's layout; its string pointers still point into the caller's memory.
ncclResult_t parseCommConfig(const ncclConfig_t* config, ncclConfig_t* out);

}  // namespace tccl
