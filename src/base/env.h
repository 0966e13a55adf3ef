// Reading environment parameters. A malformed value is an error that names the variable,
// never a silent default.
#pragma once

#include <nccl.h>

#include <cstdint>
#include <string>

namespace tccl {

// Reads an integer variable; absent -> *out = fallback. Out of [lo, hi] or not a number ->
// ncclInvalidArgument with a message naming the variable.
ncclResult_t envInt(const char* name, int64_t fallback, int64_t lo, int64_t hi, int64_t* out);
// Byte sizes accept K/M/G suffixes ("4M").
ncclResult_t envBytes(const char* name, int64_t fallback, int64_t lo, int64_t hi, int64_t* out);
std::string envString(const char* name, const std::string& fallback = "");

// TCCL_DEVICE: host, cuda or auto (the default).
ncclResult_t readDeviceSetting(std::string* device);

}  // namespace tccl
