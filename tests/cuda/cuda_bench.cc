// Ring collectives on one or more GPUs through the CUDA backend (below the communicator):
// checks each result and prints nccl-tests style bandwidth. With --memcpy-ratio, rank 0 also
// times plain cudaMemcpy D2H and H2D of the same size and prints bounce-vs-memcpy.
//
//   tccl_cuda_bench --ranks 4 --hop p2p_write --bytes 64M --iters 20 [--coll allreduce]
//   tccl_cuda_bench --ranks 2 --hop bounce@0 --coll broadcast --memcpy-ratio
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/forked_ranks.h"
#include "cuda/ring_harness.h"

using namespace tccl;
using namespace tccl::test;

namespace {

struct Options {
  int ranks = 2;
  std::string hop = "p2p_write";
  size_t bytes = 64 << 20;
  int iters = 20;
  std::string coll = "all";
  bool memcpyRatio = false;
  int gpusPerNode = 0;  // 0: every rank on GPU 0; else rank % gpus
};

size_t parseSize(const char* s) {
  char* end = nullptr;
  double v = strtod(s, &end);
  switch (*end) {
    case 'K':
    case 'k':
      v *= 1 << 10;
      break;
    case 'M':
    case 'm':
      v *= 1 << 20;
      break;
    case 'G':
    case 'g':
      v *= 1 << 30;
      break;
    default:
      break;
  }
  return static_cast<size_t>(v);
}

double memcpyGBs(size_t bytes, cudaMemcpyKind kind, int iters) {
  void* host = nullptr;
  void* dev = nullptr;
  cudaEvent_t a, b;
  if (cudaMallocHost(&host, bytes) != cudaSuccess || cudaMalloc(&dev, bytes) != cudaSuccess)
    return -1;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  void* dst = kind == cudaMemcpyDeviceToHost ? host : dev;
  const void* src = kind == cudaMemcpyDeviceToHost ? dev : host;
  cudaMemcpy(dst, src, bytes, kind);
  cudaEventRecord(a);
  for (int i = 0; i < iters; ++i) cudaMemcpyAsync(dst, src, bytes, kind);
  cudaEventRecord(b);
  cudaEventSynchronize(b);
  float ms = 0;
  cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaFreeHost(host);
  cudaFree(dev);
  return ms > 0 ? static_cast<double>(bytes) * iters / (ms / 1e3) / 1e9 : -1;
}

int rankMain(const Options& o, int rank, int n, const ncclUniqueId& id, int fd) {
  auto say = [fd](const char* fmt, auto... args) {
    char line[512];
    int len = snprintf(line, sizeof(line), fmt, args...);
    (void)!write(fd, line, static_cast<size_t>(len));
  };
  Hop hop;
  parseHopArg(o.hop, &hop);
  RingRank r;
  const int dev = o.gpusPerNode > 0 ? rank % o.gpusPerNode : 0;
  if (ringBootstrap(id, rank, n, &r) != ncclSuccess ||
      ringConnectSend(&r, dev, hop, 1 << 20, 4) != ncclSuccess ||
      ringConnectRecv(&r, hop, 4) != ncclSuccess || ringAwaitReceiver(&r, hop, 4) != ncclSuccess) {
    say("ERROR setup: %s\n", lastThreadError().c_str());
    return 1;
  }
  cudaStream_t stream = nullptr;
  cudaSetDevice(dev);
  cudaStreamCreate(&stream);
  std::vector<CollKind> kinds;
  for (CollKind k :
       {CollKind::kAllReduce, CollKind::kAllGather, CollKind::kReduceScatter, CollKind::kBroadcast})
    if (o.coll == "all" || o.coll == collName(k)) kinds.push_back(k);
  int failures = 0;
  for (CollKind k : kinds) {
    const ncclDataType_t type = ncclFloat32;
    const size_t total = o.bytes / 4;
    const size_t count =
        (k == CollKind::kAllGather || k == CollKind::kReduceScatter) ? total / n : total;
    CollArgs args{k, nullptr, nullptr, count, 0};
    std::string mismatch;
    double sec = 0;
    if (runRingColl(r, args, type, stream, o.iters, &mismatch, &sec) != ncclSuccess) {
      say("ERROR %s: %s\n", collName(k), lastThreadError().c_str());
      return 2;
    }
    if (!mismatch.empty()) ++failures;
    const double algbw = static_cast<double>(reportedBytes(args, type, n)) / sec / 1e9;
    if (rank == 0 || !mismatch.empty())
      say("RESULT coll=%s ranks=%d hop=%s bytes=%zu time_us=%.1f algbw=%.2f busbw=%.2f "
          "check=%s%s\n",
          collName(k), n, o.hop.c_str(), reportedBytes(args, type, n), sec * 1e6, algbw,
          algbw * busFactor(k, n), mismatch.empty() ? "OK" : "FAIL ", mismatch.c_str());
    if (rank == 0 && o.memcpyRatio && k == CollKind::kBroadcast) {
      const double d2h = memcpyGBs(o.bytes, cudaMemcpyDeviceToHost, o.iters);
      const double h2d = memcpyGBs(o.bytes, cudaMemcpyHostToDevice, o.iters);
      const double bound = d2h < h2d ? d2h : h2d;
      say("MEMCPY d2h=%.2f h2d=%.2f\n", d2h, h2d);
      say("BOUNCE_RATIO hop=%s bounce=%.2f memcpy_min=%.2f ratio=%.2f\n", o.hop.c_str(), algbw,
          bound, bound > 0 ? algbw / bound : 0.0);
    }
  }
  cudaStreamDestroy(stream);
  return failures ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--ranks")
      o.ranks = atoi(next());
    else if (a == "--hop")
      o.hop = next();
    else if (a == "--bytes")
      o.bytes = parseSize(next());
    else if (a == "--iters")
      o.iters = atoi(next());
    else if (a == "--coll")
      o.coll = next();
    else if (a == "--gpus")
      o.gpusPerNode = atoi(next());
    else if (a == "--memcpy-ratio")
      o.memcpyRatio = true;
    else {
      fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  Hop hop;
  if (!parseHopArg(o.hop, &hop) || o.ranks < 1) {
    fprintf(stderr, "bad --hop %s or --ranks %d\n", o.hop.c_str(), o.ranks);
    return 2;
  }
  // CUDA is touched only in the forked ranks: a parent that initialised it could not fork.
  auto outcomes = runForkedRanks(o.ranks, [&](int rank, int n, const ncclUniqueId& id, int fd) {
    return rankMain(o, rank, n, id, fd);
  });
  return printOutcomes(outcomes);
}
