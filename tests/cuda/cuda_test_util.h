// Helpers for CUDA tests: visible skips without a device, and a device probe that does not
// initialise CUDA in a process that will fork ranks afterwards.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "device/cuda/cuda_backend.h"

namespace tccl::test {

// In-process tests: skip with the reason when no device can be used.
#define TCCL_REQUIRE_CUDA()                                                                     \
  do {                                                                                          \
    std::string why_;                                                                           \
    if (!::tccl::cudaDeviceAvailable(&why_)) GTEST_SKIP() << "no usable CUDA device: " << why_; \
  } while (0)

// For tests that fork: asks a child process, so this process never touches CUDA. Returns
// an empty string when a device is usable, else the reason.
inline std::string probeCudaInChild() {
  int p[2];
  if (pipe(p) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string why;
    bool ok = cudaDeviceAvailable(&why);
    if (ok)
      why.clear();
    else if (why.empty())
      why = "unknown";
    if (write(p[1], why.data(), why.size()) < 0) _exit(2);
    _exit(ok ? 0 : 1);
  }
  close(p[1]);
  std::string why;
  char buf[256];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof(buf))) > 0) why.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "device probe crashed";
  return WEXITSTATUS(status) == 0 ? std::string() : why;
}

}  // namespace tccl::test
