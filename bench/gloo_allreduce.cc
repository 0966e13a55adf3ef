// Baseline: Gloo's ring allreduce (gloo::allreduce, RING; float, sum, out of place) over its TCP
// transport on 127.0.0.1, ranks forked locally, rendezvous through a gloo FileStore.
//   gloo_allreduce [--np 2] [-b 1M] [-e 256M]
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/transport/tcp/device.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.h"

namespace {

// A fresh directory for the FileStore, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gloo-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Rank {
 public:
  Rank(int rank, int nranks, const std::string& storeDir)
      : context_(std::make_shared<gloo::rendezvous::Context>(rank, nranks)) {
    gloo::transport::tcp::attr attr;
    attr.hostname = "127.0.0.1";
    auto device = gloo::transport::tcp::CreateDevice(attr);
    gloo::rendezvous::FileStore store(storeDir);
    context_->setTimeout(std::chrono::seconds(120));
    context_->connectFullMesh(store, device);
  }

  template <class T>
  void allreduceSum(T* in, T* out, size_t count) {
    gloo::AllreduceOptions opts(context_);
    opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
    opts.setInput(in, count);
    opts.setOutput(out, count);
    void (*sum)(void*, const void*, const void*, size_t) = &gloo::sum<T>;
    opts.setReduceFunction(sum);
    opts.setTag(tag_++);
    gloo::allreduce(opts);
  }

  void barrier() {
    gloo::BarrierOptions opts(context_);
    opts.setTag(tag_++);
    gloo::barrier(opts);
  }

  int rank() const { return context_->rank; }
  int size() const { return context_->size; }

 private:
  std::shared_ptr<gloo::rendezvous::Context> context_;
  uint32_t tag_ = 0;
};

int runRank(const bench::Config& config, int rank, const std::string& storeDir) {
  Rank gloo(rank, config.np, storeDir);
  const int n = gloo.size();
  const size_t maxCount = config.maxBytes / sizeof(float);
  std::vector<float> send(maxCount, float(rank + 1)), recv(maxCount);
  const float expected = float(n * (n + 1) / 2);

  if (rank == 0) bench::printHeader("Gloo allreduce (ring, tcp 127.0.0.1) float sum", n);
  size_t wrong = 0;
  for (size_t bytes = config.minBytes; bytes <= config.maxBytes; bytes *= 2) {
    const size_t count = bytes / sizeof(float);
    const int iters = bench::itersFor(bytes);
    for (int i = 0; i < bench::kWarmupIters; ++i)
      gloo.allreduceSum(send.data(), recv.data(), count);
    gloo.barrier();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) gloo.allreduceSum(send.data(), recv.data(), count);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    double sec = elapsed.count() / iters, sum = 0;
    gloo.allreduceSum(&sec, &sum, 1);
    for (size_t i = 0; i < count; ++i) wrong += recv[i] != expected;
    if (rank == 0) bench::printRow(bytes, iters, sum / n, n);
  }
  if (wrong) std::fprintf(stderr, "gloo_allreduce: rank %d: %zu wrong elements\n", rank, wrong);
  return wrong ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Gloo ring allreduce bus bandwidth (float sum), forked local ranks"};
  bench::Config config;
  try {
    bench::parseArgs(app, config, argc, argv, /*withNp=*/true);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    TempDir storeDir;
    std::fflush(stdout);
    std::vector<pid_t> children;
    for (int r = 0; r < config.np; ++r) {
      const pid_t pid = fork();
      if (pid < 0) {
        for (pid_t child : children) kill(child, SIGKILL);
        throw std::runtime_error("fork failed");
      }
      if (pid == 0) {
        int code = 2;
        try {
          code = runRank(config, r, storeDir.path());
        } catch (const std::exception& e) {
          std::fprintf(stderr, "gloo_allreduce: rank %d: %s\n", r, e.what());
        }
        std::fflush(stdout);
        _exit(code);
      }
      children.push_back(pid);
    }
    // A rank that fails makes the others time out (Gloo's context timeout), so plain waits end.
    int result = 0;
    for (pid_t pid : children) {
      int status = 0;
      waitpid(pid, &status, 0);
      result = std::max(result, WIFEXITED(status) ? WEXITSTATUS(status) : 2);
    }
    return result;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gloo_allreduce: %s\n", e.what());
    return 2;
  }
}
