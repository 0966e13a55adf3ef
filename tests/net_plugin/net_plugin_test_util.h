// Helpers of the net plugin tests: running a check in a forked child with its own
// environment and NCCL_DEBUG log (the loader keeps initialized plugins for the process's
// life, so every case starts from a fresh process), and reading the test plugin's counters.
#pragma once

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "test_net_stats.h"

namespace tccl::test {

using EnvList = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct ChildRun {
  int exitCode = -1;
  std::string report;  // what the body returned
  std::string log;     // everything logged at NCCL_DEBUG=INFO
};

inline std::string pluginPath(const std::string& file) {
  return std::string(TESTNET_DIR) + "/" + file;
}

// Runs body() in a child whose environment is the parent's with `env` applied (nullopt
// unsets) over these defaults: NCCL_NET_PLUGIN and NCCL_NET unset, NCCL_SOCKET_IFNAME=lo.
// The child logs at INFO into a file that comes back in ChildRun::log.
inline ChildRun runInChild(const EnvList& env, const std::function<std::string()>& body) {
  char logPath[] = "/tmp/tccl-netplugin-log-XXXXXX";
  const int logFd = mkstemp(logPath);
  if (logFd >= 0) close(logFd);
  int pipeFds[2];
  if (pipe(pipeFds) != 0) return {};
  fflush(stdout);
  fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipeFds[0]);
    unsetenv("NCCL_NET_PLUGIN");
    unsetenv("NCCL_NET");
    setenv("NCCL_SOCKET_IFNAME", "lo", 1);
    for (const auto& [name, value] : env)
      value ? setenv(name.c_str(), value->c_str(), 1) : unsetenv(name.c_str());
    setenv("NCCL_DEBUG", "INFO", 1);
    setenv("NCCL_DEBUG_SUBSYS", "INIT,ENV,NET", 1);
    setenv("NCCL_DEBUG_FILE", logPath, 1);
    resetLogging();
    const std::string report = body();
    (void)!write(pipeFds[1], report.data(), report.size());
    close(pipeFds[1]);
    _exit(0);
  }
  close(pipeFds[1]);
  ChildRun run;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipeFds[0], buf, sizeof(buf))) > 0)
    run.report.append(buf, static_cast<size_t>(n));
  close(pipeFds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(logPath);
  std::stringstream text;
  text << in.rdbuf();
  run.log = text.str();
  unlink(logPath);
  return run;
}

// The test plugin's counters, read from the copy loaded in this process.
inline std::optional<TestNetStats> testNetStats(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return std::nullopt;
  auto fn = reinterpret_cast<TestNetStatsFn>(dlsym(handle, kTestNetStatsSymbol));
  std::optional<TestNetStats> stats;
  if (fn) {
    stats.emplace();
    fn(&*stats);
  }
  dlclose(handle);
  return stats;
}

// Lines of `log` containing every one of `needles`.
inline int countLines(const std::string& log, const std::vector<std::string>& needles) {
  std::istringstream in(log);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    bool all = true;
    for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
    count += all;
  }
  return count;
}

}  // namespace tccl::test
