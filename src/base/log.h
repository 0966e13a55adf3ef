// NCCL_DEBUG-style logging: "host:pid:tid [dev] NCCL INFO msg", filtered by NCCL_DEBUG,
// NCCL_DEBUG_SUBSYS (with a TCCL subsystem) and written to NCCL_DEBUG_FILE or stdout.
#pragma once

#include <cstdint>

namespace tccl {

enum class LogLevel { kNone = 0, kVersion = 1, kWarn = 2, kInfo = 3, kAbort = 4, kTrace = 5 };

enum LogSubsys : uint32_t {
  kLogInit = 1u << 0,
  kLogColl = 1u << 1,
  kLogP2p = 1u << 2,
  kLogShm = 1u << 3,
  kLogNet = 1u << 4,
  kLogGraph = 1u << 5,
  kLogEnv = 1u << 6,
  kLogAlloc = 1u << 7,
  kLogBootstrap = 1u << 8,
  kLogTccl = 1u << 9,
  kLogAll = ~0u,
};

bool logEnabled(LogLevel level, uint32_t subsys);
void logMessage(LogLevel level, uint32_t subsys, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));
// Rereads NCCL_DEBUG* (ncclResetDebugInit).
void resetLogging();
// The device number printed in each line's brackets, per thread.
void setLogDevice(int dev);

}  // namespace tccl

#define TCCL_LOG(level, subsys, ...)                                      \
  do {                                                                    \
    if (::tccl::logEnabled(level, subsys))                                \
      ::tccl::logMessage(level, subsys, __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#define WARN(...) TCCL_LOG(::tccl::LogLevel::kWarn, ::tccl::kLogAll, __VA_ARGS__)
#define INFO(subsys, ...) TCCL_LOG(::tccl::LogLevel::kInfo, subsys, __VA_ARGS__)
#define TRACE(subsys, ...) TCCL_LOG(::tccl::LogLevel::kTrace, subsys, __VA_ARGS__)
