// Shared by the allreduce baselines (mpi_allreduce, gloo_allreduce): the sizes, the iteration
// counts and the printed table, so that every library is measured the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstddef>
#include <cstdio>

namespace bench {

struct Config {
  size_t minBytes = size_t(1) << 20;    // 1 MiB
  size_t maxBytes = size_t(256) << 20;  // 256 MiB, doubling
  int np = 2;                           // ranks, where the program forks them itself
};

// About 512 MiB of data per size, 2 to 20 iterations, so that a whole sweep stays short.
// compare_allreduce.sh gives tccl-perf the same counts (-n), and one warm-up (-w 1).
inline int itersFor(size_t bytes) {
  return int(std::clamp<size_t>((size_t(512) << 20) / std::max<size_t>(bytes, 1), 2, 20));
}
constexpr int kWarmupIters = 1;

// nccl-tests' definitions: algbw = bytes / time, allreduce busbw = algbw * 2(n-1)/n, GB = 1e9 B.
inline double algBw(size_t bytes, double sec) {
  return double(bytes) / sec / 1.0e9;
}
inline double busBw(size_t bytes, double sec, int n) {
  return algBw(bytes, sec) * 2.0 * (n - 1) / n;
}

inline void parseArgs(CLI::App& app, Config& config, int argc, char** argv, bool withNp) {
  const auto size = CLI::AsSizeValue(false);
  app.add_option("-b,--minbytes", config.minBytes, "smallest size (K/M/G)")->transform(size);
  app.add_option("-e,--maxbytes", config.maxBytes, "largest size, doubling from the smallest")
      ->transform(size);
  if (withNp) app.add_option("--np", config.np, "ranks (forked)")->check(CLI::PositiveNumber);
  app.parse(argc, argv);
  if (config.minBytes == 0 || config.minBytes > config.maxBytes)
    throw CLI::ValidationError("--minbytes", "need 0 < minbytes <= maxbytes");
}

inline void printHeader(const char* what, int nranks) {
  std::printf("# %s, %d ranks; time is the mean over ranks; GB/s = 1e9 B/s\n", what, nranks);
  std::printf("# %10s  %6s  %12s  %11s  %11s\n", "size(B)", "iters", "time(us)", "algbw(GB/s)",
              "busbw(GB/s)");
}

inline void printRow(size_t bytes, int iters, double sec, int nranks) {
  std::printf("  %10zu  %6d  %12.1f  %11.2f  %11.2f\n", bytes, iters, sec * 1e6, algBw(bytes, sec),
              busBw(bytes, sec, nranks));
  std::fflush(stdout);
}

}  // namespace bench
