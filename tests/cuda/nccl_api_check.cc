// Through the public NCCL API of libtccl.so, with device buffers and a user stream: N ranks
// (forked, all on GPU 0) run AllReduce, AllGather, ReduceScatter, Broadcast, in-place AlltoAll
// and Send/Recv and check the values; rank 0 prints busbw of a large AllReduce. Needs
// TCCL_DEVICE=cuda.
// With `nodes` > 1 the ranks play that many nodes (NCCL_HOSTID), so hops between them go
// through the network transport with GPU data staged in host memory.
//   tccl_gpu_api_check [nranks [nodes]]
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/forked_ranks.h"
#include "cuda/gpu_rank.h"

namespace {

int gNodes = 1;  // set before the ranks fork

int rankMain(int rank, int n, const ncclUniqueId& id, int fd) {
  ncclComm_t comm;
  if (!tccl::test::joinOnGpu0(rank, n, id, fd, &comm)) return 1;
  cudaStream_t s;
  cudaStreamCreate(&s);
  const size_t count = (8 << 20) + 7;
  float *in, *out;
  cudaMalloc(&in, count * n * sizeof(float));
  cudaMalloc(&out, count * n * sizeof(float));
  std::vector<float> h(count * n);
  for (size_t i = 0; i < h.size(); ++i) h[i] = float((rank + 1) * (i % 11));
  cudaMemcpy(in, h.data(), h.size() * 4, cudaMemcpyHostToDevice);
  auto fetch = [&](size_t elems) {
    std::vector<float> v(elems);
    cudaMemcpyAsync(v.data(), out, elems * 4, cudaMemcpyDeviceToHost, s);
    cudaStreamSynchronize(s);
    return v;
  };
  const float sum = n * (n + 1) / 2.0f;
  ncclResult_t r = ncclAllReduce(in, out, count, ncclFloat, ncclSum, comm, s);
  RANK_CHECK(fd, r == ncclSuccess, "allreduce: %s", ncclGetLastError(comm));
  auto v = fetch(count);
  for (size_t i = 0; i < count; ++i)
    RANK_CHECK(fd, v[i] == sum * (i % 11), "allreduce: element %zu is %g", i, v[i]);
  r = ncclAllGather(in, out, count, ncclFloat, comm, s);
  RANK_CHECK(fd, r == ncclSuccess, "allgather: %s", ncclGetLastError(comm));
  v = fetch(count * n);
  for (size_t i = 0; i < count * n; ++i)
    RANK_CHECK(fd, v[i] == float((i / count + 1) * ((i % count) % 11)),
               "allgather: element %zu is %g", i, v[i]);
  r = ncclReduceScatter(in, out, count, ncclFloat, ncclSum, comm, s);
  RANK_CHECK(fd, r == ncclSuccess, "reducescatter: %s", ncclGetLastError(comm));
  v = fetch(count);
  for (size_t i = 0; i < count; ++i)
    RANK_CHECK(fd, v[i] == sum * ((rank * count + i) % 11), "reducescatter: element %zu is %g", i,
               v[i]);
  r = ncclBroadcast(in, out, count, ncclFloat, n - 1, comm, s);
  RANK_CHECK(fd, r == ncclSuccess, "broadcast: %s", ncclGetLastError(comm));
  v = fetch(count);
  for (size_t i = 0; i < count; ++i)
    RANK_CHECK(fd, v[i] == float(n * (i % 11)), "broadcast: element %zu is %g", i, v[i]);
  // In place: the input is staged on the stream before the blocks are exchanged.
  cudaMemcpyAsync(out, in, count * n * sizeof(float), cudaMemcpyDeviceToDevice, s);
  r = ncclAlltoAll(out, out, count, ncclFloat, comm, s);
  RANK_CHECK(fd, r == ncclSuccess, "alltoall in place: %s", ncclGetLastError(comm));
  v = fetch(count * n);
  for (size_t i = 0; i < count * n; ++i)
    RANK_CHECK(fd, v[i] == float((i / count + 1) * ((rank * count + i % count) % 11)),
               "alltoall in place: element %zu is %g", i, v[i]);
  ncclGroupStart();
  ncclSend(in, count, ncclFloat, (rank + 1) % n, comm, s);
  ncclRecv(out, count, ncclFloat, (rank + n - 1) % n, comm, s);
  r = ncclGroupEnd();
  RANK_CHECK(fd, r == ncclSuccess, "sendrecv: %s", ncclGetLastError(comm));
  v = fetch(count);
  const int from = (rank + n - 1) % n;
  for (size_t i = 0; i < count; ++i)
    RANK_CHECK(fd, v[i] == float((from + 1) * (i % 11)), "sendrecv: element %zu is %g", i, v[i]);
  // Timing: the calls must return before the GPU work; the stream orders it.
  const int iters = 10;
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  cudaEventRecord(a, s);
  for (int i = 0; i < iters; ++i) ncclAllReduce(in, out, count, ncclFloat, ncclSum, comm, s);
  cudaEventRecord(b, s);
  cudaEventSynchronize(b);
  float ms = 0;
  cudaEventElapsedTime(&ms, a, b);
  const double algbw = count * 4.0 * iters / (ms / 1e3) / 1e9;
  ncclResult_t async = ncclSuccess;
  ncclCommGetAsyncError(comm, &async);
  RANK_CHECK(fd, async == ncclSuccess, "async error: %s", ncclGetLastError(comm));
  if (rank == 0)
    tccl::test::reportf(
        fd, "API_RESULT ranks=%d nodes=%d algo=%s allreduce bytes=%zu algbw=%.2f busbw=%.2f", n,
        gNodes, getenv("NCCL_ALGO") ? getenv("NCCL_ALGO") : "default", count * 4, algbw,
        algbw * 2 * (n - 1) / n);
  ncclCommDestroy(comm);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 2;
  const int nodes = gNodes = argc > 2 ? atoi(argv[2]) : 1;
  if (n < 1 || nodes < 1 || nodes > n) {
    fprintf(stderr, "usage: tccl_gpu_api_check [nranks [nodes]] (1 <= nodes <= nranks)\n");
    return 2;
  }
  auto outcomes = tccl::test::runForkedRanks(n, rankMain, [n, nodes](int rank) {
    if (nodes > 1) setenv("NCCL_HOSTID", ("node" + std::to_string(rank * nodes / n)).c_str(), 1);
  });
  return tccl::test::printOutcomes(outcomes);
}
