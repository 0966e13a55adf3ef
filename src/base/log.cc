#include "base/log.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "tccl/version.h"

namespace tccl {
namespace {

struct LogConfig {
  LogLevel level = LogLevel::kNone;
  uint32_t subsys = kLogInit | kLogEnv | kLogTccl;
  FILE* file = stdout;
  bool ownsFile = false;
  bool initialized = false;
};

std::mutex gLogMutex;
LogConfig gLog;
thread_local int tLogDevice = -1;

struct SubsysName {
  const char* name;
  uint32_t bit;
};
constexpr SubsysName kSubsysNames[] = {
    {"INIT", kLogInit}, {"COLL", kLogColl},   {"P2P", kLogP2p},
    {"SHM", kLogShm},   {"NET", kLogNet},     {"GRAPH", kLogGraph},
    {"ENV", kLogEnv},   {"ALLOC", kLogAlloc}, {"BOOTSTRAP", kLogBootstrap},
    {"TCCL", kLogTccl}, {"ALL", kLogAll},
};

LogLevel parseLevel(const char* s) {
  if (!s) return LogLevel::kNone;
  if (!strcasecmp(s, "VERSION")) return LogLevel::kVersion;
  if (!strcasecmp(s, "WARN")) return LogLevel::kWarn;
  if (!strcasecmp(s, "INFO")) return LogLevel::kInfo;
  if (!strcasecmp(s, "ABORT")) return LogLevel::kAbort;
  if (!strcasecmp(s, "TRACE")) return LogLevel::kTrace;
  return LogLevel::kNone;
}

// "INIT,COLL" enables those; "^INIT" enables all but those (NCCL's syntax).
uint32_t parseSubsys(const char* s, uint32_t fallback) {
  if (!s || !*s) return fallback;
  bool invert = s[0] == '^';
  if (invert) ++s;
  uint32_t mask = 0;
  std::string list(s);
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string tok =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    for (const auto& n : kSubsysNames)
      if (!strcasecmp(tok.c_str(), n.name)) mask |= n.bit;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return invert ? ~mask : mask;
}

// NCCL_DEBUG_FILE accepts %h (hostname) and %p (pid).
FILE* openLogFile(const char* pattern) {
  std::string path;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  for (const char* p = pattern; *p; ++p) {
    if (p[0] == '%' && p[1] == 'h') {
      path += host;
      ++p;
    } else if (p[0] == '%' && p[1] == 'p') {
      path += std::to_string(getpid());
      ++p;
    } else {
      path += *p;
    }
  }
  return fopen(path.c_str(), "w");
}

void initLocked() {
  if (gLog.initialized) return;
  gLog.level = parseLevel(getenv("NCCL_DEBUG"));
  gLog.subsys = parseSubsys(getenv("NCCL_DEBUG_SUBSYS"), gLog.subsys);
  if (const char* f = getenv("NCCL_DEBUG_FILE"); f && *f && gLog.level != LogLevel::kNone) {
    if (FILE* fp = openLogFile(f)) {
      gLog.file = fp;
      gLog.ownsFile = true;
    }
  }
  // Pairs with the acquire in ensureInit: who sees the flag sees the settings.
  __atomic_store_n(&gLog.initialized, true, __ATOMIC_RELEASE);
}

void ensureInit() {
  // Double-checked: the flag is only ever set once under the lock.
  if (__atomic_load_n(&gLog.initialized, __ATOMIC_ACQUIRE)) return;
  std::lock_guard<std::mutex> lock(gLogMutex);
  initLocked();
}

}  // namespace

bool logEnabled(LogLevel level, uint32_t subsys) {
  ensureInit();
  if (gLog.level < level || gLog.level == LogLevel::kNone) return false;
  if (level == LogLevel::kInfo || level == LogLevel::kTrace) return (gLog.subsys & subsys) != 0;
  return true;
}

void setLogDevice(int dev) {
  tLogDevice = dev;
}

void resetLogging() {
  std::lock_guard<std::mutex> lock(gLogMutex);
  if (gLog.ownsFile) fclose(gLog.file);
  gLog = LogConfig{};
  initLocked();
}

void logMessage(LogLevel level, uint32_t /*subsys*/, const char* file, int line, const char* fmt,
                ...) {
  static const std::string host = [] {  // thread-safe initialization, once
    char name[64] = {};
    gethostname(name, sizeof(name) - 1);
    if (char* dot = strchr(name, '.')) *dot = '\0';
    return std::string(name);
  }();
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char* tag = level == LogLevel::kWarn    ? "WARN"
                    : level == LogLevel::kTrace ? "TRACE"
                                                : "INFO";
  long tid = syscall(SYS_gettid);
  std::lock_guard<std::mutex> lock(gLogMutex);
  if (level == LogLevel::kVersion) {
    fprintf(gLog.file, "%s", msg);
  } else if (level == LogLevel::kTrace) {
    const char* base = strrchr(file, '/');
    fprintf(gLog.file, "%s:%d:%ld [%d] NCCL %s %s:%d %s\n", host.c_str(), getpid(), tid, tLogDevice,
            tag, base ? base + 1 : file, line, msg);
  } else {
    fprintf(gLog.file, "%s:%d:%ld [%d] NCCL %s %s\n", host.c_str(), getpid(), tid, tLogDevice, tag,
            msg);
  }
  fflush(gLog.file);
}

}  // namespace tccl
