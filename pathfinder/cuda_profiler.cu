#include <hwloc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "base/hwloc_library.h"
#include "cuda_profiler.h"
#include "device/cuda/cuda_raii.h"
#include "device/cuda/reduce_kernel.h"
#include "device/cuda/stream_memops.h"

namespace tccl::pathfinder {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(std::string("cuda profiler: ") + what + ": " + cudaGetErrorString(e));
  }
}

// Host memory bound to one NUMA node (hwloc), pinned and mapped into every GPU.
class NumaBuffer {
 public:
  NumaBuffer(hwloc_topology_t topo, int numa, size_t bytes) : topo_(topo), bytes_(bytes) {
    hwloc_obj_t node = hwloc_get_numanode_obj_by_os_index(topo, static_cast<unsigned>(numa));
    if (!node)
      throw std::invalid_argument("cuda profiler: NUMA node " + std::to_string(numa) +
                                  " does not exist here");
    ptr_ = hwloc_alloc_membind(topo, bytes, node->nodeset, HWLOC_MEMBIND_BIND,
                               HWLOC_MEMBIND_BYNODESET);
    if (!ptr_)
      throw std::runtime_error("cuda profiler: cannot allocate host memory on NUMA node " +
                               std::to_string(numa));
    memset(ptr_, 0, bytes);  // place the pages now
    void* dev = nullptr;
    cudaError_t e = registerHost(ptr_, bytes, &reg_, &dev);
    if (e != cudaSuccess) {
      hwloc_free(topo_, ptr_, bytes_);
      check(e, "cudaHostRegister");
    }
    devPtr_ = dev;
  }
  ~NumaBuffer() {
    reg_.reset();
    hwloc_free(topo_, ptr_, bytes_);
  }
  NumaBuffer(const NumaBuffer&) = delete;
  NumaBuffer& operator=(const NumaBuffer&) = delete;
  void* devicePtr() const { return devPtr_; }
  void* hostPtr() const { return ptr_; }

 private:
  hwloc_topology_t topo_;
  size_t bytes_;
  void* ptr_ = nullptr;
  HostRegistration reg_;
  void* devPtr_ = nullptr;
};

// One copy stream: `device` moves bytes from src to dst, by a kernel or the copy engine.
struct Leg {
  int transfer;
  int device;
  bool copyEngine;
  void* src;
  void* dst;
  bool possible = true;  // false: kernel access to a peer without peer access
};

}  // namespace

struct CudaProfiler::State {
  CudaProfilerOptions options;
  hwloc_topology_t topo = nullptr;
  int gpus = 0;
  std::vector<std::vector<bool>> peer;  // peer[a][b]: a's kernels reach b's memory
  std::vector<CudaStream> streams;      // a pool; leg i uses streams[i] (created on its device)
  std::vector<int> streamDevice;
  std::map<std::tuple<int, int>, DeviceMemory> deviceBuffers;               // (gpu, ordinal)
  std::map<std::tuple<int, int>, std::unique_ptr<NumaBuffer>> hostBuffers;  // (numa, ordinal)
  const StreamMemOps* memOps = nullptr;
  std::unique_ptr<NumaBuffer> goFlag;
  uint32_t epoch = 0;

  ~State() {
    for (int d = 0; d < gpus; ++d) {
      cudaSetDevice(d);
      cudaDeviceSynchronize();
    }
    streams.clear();
    deviceBuffers.clear();
    hostBuffers.clear();
    goFlag.reset();
    if (topo) hwloc_topology_destroy(topo);
  }

  void* deviceBuffer(int gpu, int ordinal) {
    if (gpu < 0 || gpu >= gpus)
      throw std::invalid_argument("cuda profiler: GPU " + std::to_string(gpu) +
                                  " does not exist here");
    auto& m = deviceBuffers[{gpu, ordinal}];
    if (!m) {
      DeviceGuard g(gpu);
      check(g.status(), "cudaSetDevice");
      check(allocDevice(options.bytesPerCopy, &m), "cudaMalloc");
    }
    return m.get();
  }
  void* hostBuffer(int numa, int ordinal) {
    auto& b = hostBuffers[{numa, ordinal}];
    if (!b) b = std::make_unique<NumaBuffer>(topo, numa, options.bytesPerCopy);
    return b->devicePtr();
  }
  cudaStream_t stream(size_t i, int device) {
    while (streams.size() <= i) {
      streams.emplace_back();
      streamDevice.push_back(-1);
    }
    if (streamDevice[i] != device) {
      DeviceGuard g(device);
      check(g.status(), "cudaSetDevice");
      streams[i].reset();
      check(createStream(&streams[i]), "cudaStreamCreate");
      streamDevice[i] = device;
    }
    return streams[i].get();
  }

  std::vector<Leg> legsOf(std::span<const Transfer> transfers) {
    std::vector<Leg> legs;
    std::map<int, int> devOrdinal, hostOrdinal;  // fresh buffers for every leg
    auto devBuf = [&](int gpu) { return deviceBuffer(gpu, devOrdinal[gpu]++); };
    auto hostBuf = [&](int numa) { return hostBuffer(numa, hostOrdinal[numa]++); };
    for (size_t i = 0; i < transfers.size(); ++i) {
      const Transfer& t = transfers[i];
      const Hop& h = t.hop;
      const int ti = static_cast<int>(i);
      const bool ce = h.engine == Engine::kCopyEngine;
      switch (h.kind) {
        case HopKind::kP2pWrite:
        case HopKind::kP2pRead: {
          if (t.src < 0 || t.dst < 0)
            throw std::invalid_argument("cuda profiler: p2p hop without two GPUs: " +
                                        describeTransfer(t));
          const int runner = h.kind == HopKind::kP2pWrite ? t.src : t.dst,
                    other = runner == t.src ? t.dst : t.src;
          Leg leg{ti, runner, ce, devBuf(t.src), devBuf(t.dst)};
          leg.possible = ce || runner == other || peer[runner][other];
          legs.push_back(leg);
          break;
        }
        case HopKind::kHostBounce:
        case HopKind::kShm:
          if (t.src < 0 || t.dst < 0)
            throw std::invalid_argument("cuda profiler: bounce hop without two GPUs: " +
                                        describeTransfer(t));
          legs.push_back({ti, t.src, ce, devBuf(t.src), hostBuf(std::max(h.numa, 0))});
          legs.push_back({ti, t.dst, h.readEngine == Engine::kCopyEngine,
                          hostBuf(std::max(h.numa, 0)), devBuf(t.dst)});
          break;
        case HopKind::kNet:
          if (h.gpuDirect)
            throw std::invalid_argument("cuda profiler: GPU-direct NIC hops need the NIC itself: " +
                                        describeTransfer(t));
          if (t.isEntry())
            legs.push_back({ti, t.dst, h.readEngine == Engine::kCopyEngine,
                            hostBuf(std::max(h.numa, 0)), devBuf(t.dst)});
          else
            legs.push_back({ti, t.src, ce, devBuf(t.src), hostBuf(std::max(h.numa, 0))});
          break;
      }
    }
    return legs;
  }

  // Runs every leg `copies[i]` times, all released together; returns each leg's GB/s.
  std::vector<double> runTogether(const std::vector<Leg>& legs, const std::vector<int>& copies) {
    const size_t bytes = options.bytesPerCopy;
    std::vector<CudaEvent> starts(legs.size()), ends(legs.size());
    const uint32_t go = ++epoch;
    for (size_t i = 0; i < legs.size(); ++i) {
      const Leg& l = legs[i];
      if (!l.possible) continue;
      cudaStream_t s = stream(i, l.device);
      DeviceGuard g(l.device);
      check(g.status(), "cudaSetDevice");
      check(createEvent(&starts[i], cudaEventDefault), "cudaEventCreate");
      check(createEvent(&ends[i], cudaEventDefault), "cudaEventCreate");
      check(memOps->waitGeq(s, goFlag->devicePtr(), go), "cuStreamWaitValue32");
      check(cudaEventRecord(starts[i].get(), s), "cudaEventRecord");
      LaunchShape shape;
      shape.maxBlocks = 32;
      for (int c = 0; c < copies[i]; ++c) {
        if (l.copyEngine)
          check(cudaMemcpyAsync(l.dst, l.src, bytes, cudaMemcpyDefault, s), "cudaMemcpyAsync");
        else
          check(launchCopyKernel(l.dst, nullptr, l.src, bytes, shape, s), "copy kernel");
      }
      check(cudaEventRecord(ends[i].get(), s), "cudaEventRecord");
    }
    std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(goFlag->hostPtr()))
        .store(go, std::memory_order_release);
    std::vector<double> rates(legs.size(), 0.0);
    for (size_t i = 0; i < legs.size(); ++i) {
      if (!legs[i].possible) continue;
      check(cudaEventSynchronize(ends[i].get()), "cudaEventSynchronize");
      float ms = 0;
      check(cudaEventElapsedTime(&ms, starts[i].get(), ends[i].get()), "cudaEventElapsedTime");
      rates[i] = ms > 0 ? static_cast<double>(bytes) * copies[i] / (ms / 1e3) / 1e9 : 0.0;
    }
    return rates;
  }
};

std::unique_ptr<CudaProfiler> CudaProfiler::create(const CudaProfilerOptions& options,
                                                   std::string* why) {
  auto st = std::make_unique<State>();
  st->options = options;
  auto fail = [&](const std::string& msg) -> std::unique_ptr<CudaProfiler> {
    if (why) *why = msg;
    return nullptr;
  };
  cudaError_t e = cudaGetDeviceCount(&st->gpus);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return fail(std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e));
  }
  if (st->gpus == 0) return fail("no CUDA device");
  if ((e = loadStreamMemOps(&st->memOps)) != cudaSuccess)
    return fail(std::string("no stream memory operations: ") + cudaGetErrorString(e));
  std::string hwlocWhy;
  if (!hwlocLibraryLoaded(&hwlocWhy)) return fail("libhwloc cannot be loaded: " + hwlocWhy);
  if (hwloc_topology_init(&st->topo) != 0 || hwloc_topology_load(st->topo) != 0)
    return fail("hwloc topology");
  st->peer.assign(st->gpus, std::vector<bool>(st->gpus, false));
  for (int a = 0; a < st->gpus; ++a) {
    DeviceGuard g(a);
    if (g.status() != cudaSuccess) return fail("cudaSetDevice failed");
    for (int b = 0; b < st->gpus; ++b) {
      if (a == b) continue;
      int can = 0;
      if (cudaDeviceCanAccessPeer(&can, a, b) == cudaSuccess && can) {
        cudaError_t pe = cudaDeviceEnablePeerAccess(b, 0);
        if (pe == cudaSuccess || pe == cudaErrorPeerAccessAlreadyEnabled) st->peer[a][b] = true;
        (void)cudaGetLastError();
      }
    }
  }
  try {
    st->goFlag = std::make_unique<NumaBuffer>(st->topo, 0, 4096);
  } catch (const std::exception& ex) {
    return fail(ex.what());
  }
  return std::unique_ptr<CudaProfiler>(new CudaProfiler(std::move(st)));
}

CudaProfiler::CudaProfiler(std::unique_ptr<State> state) : state_(std::move(state)) {}
CudaProfiler::~CudaProfiler() = default;

int CudaProfiler::gpuCount() const {
  return state_->gpus;
}

std::vector<double> CudaProfiler::measure(std::span<const Transfer> transfers) {
  State& st = *state_;
  const std::vector<Leg> legs = st.legsOf(transfers);
  // Pass 1 finds each leg's rate; pass 2 gives every leg about targetSeconds of work.
  std::vector<int> copies(legs.size(), st.options.minCopies);
  std::vector<double> rates = st.runTogether(legs, copies);
  for (size_t i = 0; i < legs.size(); ++i) {
    const double perCopy = static_cast<double>(st.options.bytesPerCopy) / 1e9;
    const double n = rates[i] > 0 ? st.options.targetSeconds * rates[i] / perCopy : 0;
    copies[i] = std::max(st.options.minCopies, static_cast<int>(std::lround(n)));
  }
  rates = st.runTogether(legs, copies);
  std::vector<double> out(transfers.size(), INFINITY);
  for (size_t i = 0; i < legs.size(); ++i)
    out[legs[i].transfer] = std::min(out[legs[i].transfer], legs[i].possible ? rates[i] : 0.0);
  return out;
}

}  // namespace tccl::pathfinder
