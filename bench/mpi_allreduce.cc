// Baseline: MPI_Allreduce (float, sum, out of place) bus bandwidth, 1 MiB .. 256 MiB doubling.
//   mpirun -np N mpi_allreduce [-b 1M] [-e 256M]
#include <mpi.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.h"

namespace {

void check(int rc, const char* call) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string(call) + " failed");
}
#define MPI_CHECK(call) check((call), #call)

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv) { MPI_CHECK(MPI_Init(argc, argv)); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ~MpiSession() { MPI_Finalize(); }
};

int run(const bench::Config& config) {
  int rank = 0, nranks = 1;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &nranks));
  const size_t maxCount = config.maxBytes / sizeof(float);
  std::vector<float> send(maxCount, float(rank + 1)), recv(maxCount);
  const float expected = float(nranks * (nranks + 1) / 2);

  if (rank == 0) bench::printHeader("MPI_Allreduce float sum", nranks);
  int wrong = 0;
  for (size_t bytes = config.minBytes; bytes <= config.maxBytes; bytes *= 2) {
    const int count = int(bytes / sizeof(float)), iters = bench::itersFor(bytes);
    auto allreduce = [&] {
      MPI_CHECK(MPI_Allreduce(send.data(), recv.data(), count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
    };
    for (int i = 0; i < bench::kWarmupIters; ++i) allreduce();
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double start = MPI_Wtime();
    for (int i = 0; i < iters; ++i) allreduce();
    double sec = (MPI_Wtime() - start) / iters, sum = 0;
    MPI_CHECK(MPI_Allreduce(&sec, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
    for (int i = 0; i < count; ++i) wrong += recv[size_t(i)] != expected;
    if (rank == 0) bench::printRow(bytes, iters, sum / nranks, nranks);
  }
  if (wrong) std::fprintf(stderr, "mpi_allreduce: rank %d: %d wrong elements\n", rank, wrong);
  return wrong ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  CLI::App app{"MPI_Allreduce bus bandwidth (float sum)"};
  bench::Config config;
  try {
    bench::parseArgs(app, config, argc, argv, /*withNp=*/false);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpi_allreduce: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
    return 2;
  }
}
