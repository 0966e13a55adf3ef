// Runs N ranks as forked processes that share one ncclUniqueId (made by the parent, which then
// only waits, as NCCL allows). Each rank writes a report line to a pipe; the parent collects
// them and the exit codes.
#pragma once

#include <nccl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace tccl::test {

struct RankOutcome {
  int exitCode = -1;
  std::string report;  // everything the rank wrote to its report fd
};

// body(rank, nranks, id, reportFd) returns the rank's exit code. `setup` runs in the child
// before the body (environment tweaks).
inline std::vector<RankOutcome> runForkedRanks(
    int nranks, const std::function<int(int, int, const ncclUniqueId&, int)>& body,
    const std::function<void(int)>& setup = {}, double timeoutSec = 300) {
  ncclUniqueId id{};
  if (ncclGetUniqueId(&id) != ncclSuccess) {
    fprintf(stderr, "ncclGetUniqueId failed: %s\n", ncclGetLastError(nullptr));
    return {};
  }
  std::vector<pid_t> pids(nranks);
  std::vector<int> fds(nranks);
  for (int r = 0; r < nranks; ++r) {
    int p[2];
    if (pipe(p) != 0) return {};
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      if (setup) setup(r);
      int code = body(r, nranks, id, p[1]);
      close(p[1]);
      _exit(code);
    }
    close(p[1]);
    pids[r] = pid;
    fds[r] = p[0];
  }
  std::vector<RankOutcome> out(nranks);
  // Drain all pipes concurrently so that a chatty rank never blocks on a full pipe.
  std::vector<std::thread> readers;
  for (int r = 0; r < nranks; ++r) {
    readers.emplace_back([&, r] {
      char buf[4096];
      ssize_t n;
      while ((n = read(fds[r], buf, sizeof(buf))) > 0)
        out[r].report.append(buf, static_cast<size_t>(n));
      close(fds[r]);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSec);
  for (int r = 0; r < nranks; ++r) {
    int status = 0;
    while (true) {
      pid_t done = waitpid(pids[r], &status, WNOHANG);
      if (done == pids[r]) break;
      if (std::chrono::steady_clock::now() > deadline) {
        for (pid_t p : pids) kill(p, SIGKILL);
        waitpid(pids[r], &status, 0);
        status = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    out[r].exitCode = status == -1        ? -2
                      : WIFEXITED(status) ? WEXITSTATUS(status)
                                          : 128 + WTERMSIG(status);
  }
  for (auto& t : readers) t.join();
  return out;
}

// For a tool's main: prints every rank's report and the ranks that failed; the exit status.
inline int printOutcomes(const std::vector<RankOutcome>& outcomes) {
  int rc = outcomes.empty() ? 1 : 0;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    fputs(outcomes[r].report.c_str(), stdout);
    if (outcomes[r].exitCode != 0) {
      printf("RANK %zu exit %d\n", r, outcomes[r].exitCode);
      rc = 1;
    }
  }
  return rc;
}

inline void report(int fd, const std::string& line) {
  std::string s = line + "\n";
  (void)!write(fd, s.data(), s.size());
}

__attribute__((format(printf, 2, 3))) inline void reportf(int fd, const char* fmt, ...) {
  char line[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  report(fd, line);
}

}  // namespace tccl::test

// In a rank body: when `cond` is false, reports the formatted line and returns 1.
#define RANK_CHECK(fd, cond, ...)             \
  do {                                        \
    if (!(cond)) {                            \
      ::tccl::test::reportf(fd, __VA_ARGS__); \
      return 1;                               \
    }                                         \
  } while (0)
