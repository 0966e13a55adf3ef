// Helpers for the bodies of forked-rank tests: a bounded poll, and a check that reports what
// failed through the rank's pipe (a `report` callable in scope) and ends the rank with 1.
#pragma once

#include <chrono>
#include <string>
#include <thread>

namespace tccl::test {

// Polls `f` until it returns something non-null (true) or `sec` pass; returns the last result.
template <typename F>
auto pollFor(double sec, F f) -> decltype(f()) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(sec);
  while (true) {
    auto p = f();
    if (p || std::chrono::steady_clock::now() > end) return p;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace tccl::test

#define REQUIRE(cond, what)             \
  do {                                  \
    if (!(cond)) {                      \
      report(std::string(what) + "\n"); \
      return 1;                         \
    }                                   \
  } while (0)
