// Runs N ranks as forked processes that share one ncclUniqueId. The id (and its rendezvous
// root, a thread) is made by a helper process, so that this process never runs a thread of
// the library when it forks: a child of a multi-threaded process may inherit a lock (malloc's,
// the sanitizers' allocator) that some other thread held, and hang on it. Each rank writes a
// report line to a pipe; the parent collects them and the exit codes.
#pragma once

#include <dirent.h>
#include <nccl.h>
#include <signal.h>
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

// ThreadSanitizer runs a thread of its own once the program started one; it forks safely.
#if defined(__SANITIZE_THREAD__)
inline constexpr int kRuntimeThreads = 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr int kRuntimeThreads = 1;
#else
inline constexpr int kRuntimeThreads = 0;
#endif
#else
inline constexpr int kRuntimeThreads = 0;
#endif

// Threads of this process (1 when only the caller runs).
inline int threadCount() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

// Makes the unique id in a forked helper that keeps its root alive until *release is closed.
inline bool uniqueIdFromHelper(ncclUniqueId* id, pid_t* helper, int* release) {
  int idPipe[2], holdPipe[2];
  if (pipe(idPipe) != 0) return false;
  if (pipe(holdPipe) != 0) {
    close(idPipe[0]);
    close(idPipe[1]);
    return false;
  }
  fflush(stdout);
  fflush(stderr);
  *helper = fork();
  if (*helper == 0) {
    close(idPipe[0]);
    close(holdPipe[1]);
    ncclUniqueId made{};
    if (ncclGetUniqueId(&made) != ncclSuccess) {
      fprintf(stderr, "ncclGetUniqueId failed: %s\n", ncclGetLastError(nullptr));
      _exit(1);
    }
    (void)!write(idPipe[1], &made, sizeof(made));
    close(idPipe[1]);
    char c;
    while (read(holdPipe[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(idPipe[1]);
  close(holdPipe[0]);
  const bool ok = *helper > 0 && read(idPipe[0], id, sizeof(*id)) == sizeof(*id);
  close(idPipe[0]);
  *release = holdPipe[1];
  if (!ok) {
    close(*release);
    if (*helper > 0) waitpid(*helper, nullptr, 0);
  }
  return ok;
}

// body(rank, nranks, id, reportFd) returns the rank's exit code. `setup` runs in the child
// before the body (environment tweaks). Returns nothing when the ranks cannot be started, or
// when threads already run in this process (forking now would be unsafe).
inline std::vector<RankOutcome> runForkedRanks(
    int nranks, const std::function<int(int, int, const ncclUniqueId&, int)>& body,
    const std::function<void(int)>& setup = {}, double timeoutSec = 300) {
  if (int threads = threadCount(); threads > 1 + kRuntimeThreads) {
    fprintf(stderr,
            "runForkedRanks: %d threads run in this process; forking ranks now is unsafe (run "
            "each such test in a process of its own)\n",
            threads);
    return {};
  }
  ncclUniqueId id{};
  pid_t helper = -1;
  int release = -1;
  if (!uniqueIdFromHelper(&id, &helper, &release)) return {};
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
      close(release);
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
  // Reap every rank as soon as it ends: a zombie still looks alive to its peers.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSec);
  int left = nranks;
  while (left > 0) {
    int status = 0;
    pid_t done = waitpid(-1, &status, WNOHANG);
    for (int r = 0; r < nranks && done > 0; ++r) {
      if (pids[r] != done) continue;
      out[r].exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      --left;
    }
    if (done > 0) continue;
    if (std::chrono::steady_clock::now() > deadline) {
      for (int r = 0; r < nranks; ++r) {
        if (out[r].exitCode != -1) continue;
        kill(pids[r], SIGKILL);
        waitpid(pids[r], &status, 0);
        out[r].exitCode = -2;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& t : readers) t.join();
  close(release);
  waitpid(helper, nullptr, 0);
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
