// A CUDA ring below the communicator: bootstrap, CUDA backend, proxy and CUDA connections,
// driven by the shared executor through CudaGroupLaunch exactly as the core will drive them.
// Used by the multi-rank tests and the bench (one rank per process, or several per process).
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/bootstrap.h"
#include "base/datatype.h"
#include "base/error.h"
#include "device/cuda/cuda_backend.h"
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_launch.h"
#include "device/cuda/cuda_proxy.h"
#include "exec/executor.h"
#include "exec/ring_schedule.h"
#include "transport/cuda/cuda_connection.h"

namespace tccl::test {

// Members in teardown order (last destroyed first): the proxy drains before the connections
// go, the connections before the backend whose stream they use.
struct RingRank {
  int rank = 0, nranks = 1;
  size_t slotBytes = 0;
  std::unique_ptr<Bootstrap> bootstrap;
  std::unique_ptr<CudaBackend> device;
  std::unique_ptr<Connection> send, recv;
  std::unique_ptr<CudaProxy> proxy;
  std::atomic<ncclResult_t> asyncError{ncclSuccess};
};

// Bootstrap only (several ranks of one process create theirs on separate threads).
inline ncclResult_t ringBootstrap(const ncclUniqueId& id, int rank, int nranks, RingRank* r) {
  r->rank = rank;
  r->nranks = nranks;
  return Bootstrap::create(id, rank, nranks, 60, &r->bootstrap);
}

// Backend, proxy and both ring connections (ring order 0, 1, ..., n-1). The send sides of all
// ranks of one process must be set up before their receive sides.
inline ncclResult_t ringConnectSend(RingRank* r, int cudaDev, const Hop& hop, size_t slotBytes,
                                    int nSlots) {
  TCCL_CHECK(CudaBackend::create(cudaDev, &r->device));
  r->proxy = std::make_unique<CudaProxy>(cudaDev);
  r->slotBytes = slotBytes;
  if (r->nranks == 1) return ncclSuccess;
  CudaConnectionSpec spec{slotBytes, nSlots, 0x100, hop};
  return cudaConnectSend(*r->bootstrap, (r->rank + 1) % r->nranks, spec, *r->device, &r->send);
}
inline ncclResult_t ringConnectRecv(RingRank* r, const Hop& hop, int nSlots) {
  if (r->nranks == 1) return ncclSuccess;
  CudaConnectionSpec spec{r->slotBytes, nSlots, 0x100, hop};
  return cudaConnectRecv(*r->bootstrap, (r->rank - 1 + r->nranks) % r->nranks, spec, *r->device,
                         &r->recv);
}
// After every rank's ringConnectRecv: waits until the next rank holds the send connection.
inline ncclResult_t ringAwaitReceiver(RingRank* r, const Hop& hop, int nSlots) {
  if (r->nranks == 1) return ncclSuccess;
  CudaConnectionSpec spec{r->slotBytes, nSlots, 0x100, hop};
  return cudaAwaitReceiver(*r->bootstrap, (r->rank + 1) % r->nranks, spec);
}

// Adds one collective of this rank to `group` (launch() enqueues it on `stream`).
inline void addRingColl(RingRank& r, const CollArgs& args, const ReduceSpec& spec,
                        cudaStream_t stream, CudaGroupLaunch* group) {
  RingView view;
  for (int i = 0; i < r.nranks; ++i) view.order.push_back(i);
  view.position = r.rank;
  view.send = r.send.get();
  view.recv = r.recv.get();
  auto q = std::make_shared<WorkQueue>();
  Program prog;
  prog.spec = spec;
  prog.elemSize = dataTypeSize(spec.type);
  buildRingProgram(args, {view}, r.slotBytes / prog.elemSize, &prog);
  q->sequential.push_back(std::move(prog));
  q->device = r.device.get();
  q->rank = r.rank;
  RingRank* rp = &r;
  group->add(
      *r.device, *r.proxy, {stream},
      [q] {
        WaitPolicy policy;
        policy.timeoutSec = 60;
        return runWorkQueues({q.get()}, policy);
      },
      [rp](ncclResult_t res) {
        ncclResult_t expected = ncclSuccess;
        rp->asyncError.compare_exchange_strong(expected, res);
      });
}

// Test data: small integers, exact in every type and in any summation order.
inline double inputValue(int rank, size_t i) {
  return (rank + 1) * static_cast<double>(i % 13 + 1);
}

inline void encodeValue(ncclDataType_t type, double v, void* dst) {
  switch (type) {
    case ncclFloat32: {
      float f = static_cast<float>(v);
      memcpy(dst, &f, 4);
      break;
    }
    case ncclFloat16: {
      uint16_t h = floatToHalf(static_cast<float>(v));
      memcpy(dst, &h, 2);
      break;
    }
    case ncclBfloat16: {
      uint16_t b = floatToBf16(static_cast<float>(v));
      memcpy(dst, &b, 2);
      break;
    }
    case ncclInt32: {
      int32_t x = static_cast<int32_t>(v);
      memcpy(dst, &x, 4);
      break;
    }
    default: {
      double d = v;
      memcpy(dst, &d, 8);
      break;
    }
  }
}

// The expected output of rank `rank` for a ring collective over inputValue data.
inline std::vector<char> expectedOutput(const CollArgs& a, ncclDataType_t type, int rank, int n) {
  const size_t es = dataTypeSize(type);
  const double sum = n * (n + 1) / 2.0;
  size_t outCount = a.kind == CollKind::kAllGather ? a.count * n : a.count;
  std::vector<char> out(outCount * es);
  for (size_t i = 0; i < outCount; ++i) {
    double v = 0;
    switch (a.kind) {
      case CollKind::kAllReduce:
        v = sum * (i % 13 + 1);
        break;
      case CollKind::kReduceScatter:
        v = sum * ((rank * a.count + i) % 13 + 1);
        break;
      case CollKind::kAllGather:
        v = inputValue(static_cast<int>(i / a.count), i % a.count);
        break;
      case CollKind::kBroadcast:
        v = inputValue(a.root, i);
        break;
      case CollKind::kReduce:
        v = sum * (i % 13 + 1);
        break;
    }
    encodeValue(type, v, out.data() + i * es);
  }
  return out;
}

inline size_t inputCount(const CollArgs& a, int n) {
  return a.kind == CollKind::kReduceScatter ? a.count * n : a.count;
}

// Bus bandwidth factor of nccl-tests.
inline double busFactor(CollKind kind, int n) {
  switch (kind) {
    case CollKind::kAllReduce:
      return 2.0 * (n - 1) / n;
    case CollKind::kAllGather:
    case CollKind::kReduceScatter:
      return static_cast<double>(n - 1) / n;
    default:
      return 1.0;
  }
}

// Bytes nccl-tests reports for a collective ("size").
inline size_t reportedBytes(const CollArgs& a, ncclDataType_t type, int n) {
  const size_t es = dataTypeSize(type);
  return (a.kind == CollKind::kAllGather || a.kind == CollKind::kReduceScatter) ? a.count * n * es
                                                                                : a.count * es;
}

inline const char* collName(CollKind k) {
  switch (k) {
    case CollKind::kAllReduce:
      return "allreduce";
    case CollKind::kAllGather:
      return "allgather";
    case CollKind::kReduceScatter:
      return "reducescatter";
    case CollKind::kBroadcast:
      return "broadcast";
    case CollKind::kReduce:
      return "reduce";
  }
  return "?";
}

// Runs `args` (buffers filled in here) once to check it, then `iters` more times to time it,
// all stream-ordered on `stream`. *seconds: mean time of one collective.
inline ncclResult_t runRingColl(RingRank& r, CollArgs args, ncclDataType_t type,
                                cudaStream_t stream, int iters, std::string* mismatch,
                                double* seconds) {
  const size_t es = dataTypeSize(type);
  const size_t inCount = inputCount(args, r.nranks);
  const std::vector<char> expected = expectedOutput(args, type, r.rank, r.nranks);
  std::vector<char> input(inCount * es), output(expected.size());
  for (size_t i = 0; i < inCount; ++i)
    encodeValue(type, inputValue(r.rank, i), input.data() + i * es);
  DeviceGuard guard(r.device->device());
  TCCL_CUDA_CHECK(guard.status());
  DeviceMemory in, out;
  TCCL_CUDA_CHECK(allocDevice(input.size() + 16, &in));
  TCCL_CUDA_CHECK(allocDevice(output.size() + 16, &out));
  TCCL_CUDA_CHECK(
      cudaMemcpyAsync(in.get(), input.data(), input.size(), cudaMemcpyHostToDevice, stream));
  TCCL_CUDA_CHECK(cudaMemsetAsync(out.get(), 0xff, output.size(), stream));
  args.sendbuff = in.get();
  args.recvbuff = out.get();
  ReduceSpec spec;
  spec.type = type;
  auto launchOnce = [&]() -> ncclResult_t {
    CudaGroupLaunch group;
    addRingColl(r, args, spec, stream, &group);
    return group.launch();
  };
  TCCL_CHECK(launchOnce());
  TCCL_CUDA_CHECK(
      cudaMemcpyAsync(output.data(), out.get(), output.size(), cudaMemcpyDeviceToHost, stream));
  TCCL_CUDA_CHECK(cudaStreamSynchronize(stream));
  TCCL_CHECK(r.asyncError.load());
  mismatch->clear();
  for (size_t i = 0; i < expected.size(); i += es) {
    if (memcmp(&expected[i], &output[i], es) != 0) {
      *mismatch = std::string(collName(args.kind)) + " " + dataTypeName(type) + ": element " +
                  std::to_string(i / es) + " of " + std::to_string(expected.size() / es) +
                  " differs";
      break;
    }
  }
  *seconds = 0;
  if (iters <= 0) return ncclSuccess;
  CudaEvent start, stop;
  TCCL_CUDA_CHECK(createEvent(&start, cudaEventDefault));
  TCCL_CUDA_CHECK(createEvent(&stop, cudaEventDefault));
  TCCL_CUDA_CHECK(cudaEventRecord(start.get(), stream));
  for (int i = 0; i < iters; ++i) TCCL_CHECK(launchOnce());
  TCCL_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
  TCCL_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  TCCL_CHECK(r.asyncError.load());
  float ms = 0;
  TCCL_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  *seconds = ms / 1e3 / iters;
  return ncclSuccess;
}

// "p2p_write", "p2p_read", "bounce", "bounce@1", optionally "/ce" for the copy engine.
inline bool parseHopArg(const std::string& text, Hop* hop) {
  std::string s = text;
  bool ce = false;
  if (s.size() > 3 && s.substr(s.size() - 3) == "/ce") {
    ce = true;
    s.resize(s.size() - 3);
  }
  *hop = Hop{};
  if (s == "p2p_write")
    hop->kind = HopKind::kP2pWrite;
  else if (s == "p2p_read")
    hop->kind = HopKind::kP2pRead;
  else if (s.rfind("bounce", 0) == 0) {
    hop->kind = HopKind::kHostBounce;
    if (s.size() > 7 && s[6] == '@')
      hop->numa = std::atoi(s.c_str() + 7);
    else if (s != "bounce")
      return false;
  } else {
    return false;
  }
  if (ce) hop->engine = hop->readEngine = Engine::kCopyEngine;
  return true;
}

}  // namespace tccl::test
