// ncclMemAlloc on the CUDA backend, through libtccl.so, the way nccl-tests and PyTorch's NCCL
// memory pool use it: 2 forked ranks on GPU 0 allocate with ncclMemAlloc, cudaMemset the
// buffers, run an AllReduce on them and free them. Checks that the memory is device memory,
// whether it is VMM memory with a POSIX file-descriptor handle (as NCCL's is), the values, and
// ncclMemAlloc(&p, 0). Needs TCCL_DEVICE=cuda (or auto on a GPU machine).
//   tccl_gpu_memalloc_check
#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/forked_ranks.h"
#include "cuda/gpu_rank.h"

namespace {

template <typename Fn>
Fn driverFunction(const char* name, unsigned version) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  if (cudaGetDriverEntryPointByVersion(name, &fn, version, cudaEnableDefault, &found) !=
          cudaSuccess ||
      found != cudaDriverEntryPointSuccess)
    return nullptr;
  return reinterpret_cast<Fn>(fn);
}

// "vmm+fd" when `p` is VMM memory whose handle exports as a POSIX file descriptor, "vmm" when
// only the first holds, "plain" otherwise (cudaMalloc).
std::string vmmKind(void* p) {
  auto retain =
      driverFunction<PFN_cuMemRetainAllocationHandle_v11000>("cuMemRetainAllocationHandle", 11000);
  auto release = driverFunction<PFN_cuMemRelease_v10020>("cuMemRelease", 10020);
  auto exportHandle = driverFunction<PFN_cuMemExportToShareableHandle_v10020>(
      "cuMemExportToShareableHandle", 10020);
  if (!retain || !release || !exportHandle) return "unknown (driver lacks the VMM API)";
  CUmemGenericAllocationHandle handle;
  if (retain(&handle, p) != CUDA_SUCCESS) return "plain";
  int fd = -1;
  const bool exported =
      exportHandle(&fd, handle, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0) == CUDA_SUCCESS;
  if (fd >= 0) close(fd);
  release(handle);
  return exported ? "vmm+fd" : "vmm";
}

int rankMain(int rank, int n, const ncclUniqueId& id, int fd) {
  ncclComm_t comm;
  if (!tccl::test::joinOnGpu0(rank, n, id, fd, &comm)) return 1;
  void* zero = &zero;
  RANK_CHECK(fd, ncclMemAlloc(&zero, 0) == ncclSuccess && zero == nullptr, "ncclMemAlloc(&p, 0)");

  const size_t bytes = (32 << 20) + 3;
  void *send = nullptr, *recv = nullptr;
  ncclResult_t r = ncclMemAlloc(&send, bytes);
  RANK_CHECK(fd, r == ncclSuccess, "ncclMemAlloc: %s", ncclGetLastError(nullptr));
  RANK_CHECK(fd, ncclMemAlloc(&recv, bytes) == ncclSuccess, "ncclMemAlloc: %s",
             ncclGetLastError(nullptr));
  cudaPointerAttributes attr{};
  RANK_CHECK(
      fd, cudaPointerGetAttributes(&attr, send) == cudaSuccess && attr.type == cudaMemoryTypeDevice,
      "ncclMemAlloc did not return device memory (type %d)", static_cast<int>(attr.type));
  const std::string kind = vmmKind(send);

  cudaStream_t s;
  RANK_CHECK(fd, cudaStreamCreate(&s) == cudaSuccess, "cudaStreamCreate");
  RANK_CHECK(fd, cudaMemset(send, rank + 1, bytes) == cudaSuccess,
             "cudaMemset on ncclMemAlloc memory");
  RANK_CHECK(fd, cudaMemset(recv, 0, bytes) == cudaSuccess, "cudaMemset on ncclMemAlloc memory");
  r = ncclAllReduce(send, recv, bytes, ncclUint8, ncclSum, comm, s);
  RANK_CHECK(fd, r == ncclSuccess, "allreduce: %s", ncclGetLastError(comm));
  std::vector<unsigned char> h(bytes);
  RANK_CHECK(fd,
             cudaMemcpyAsync(h.data(), recv, bytes, cudaMemcpyDeviceToHost, s) == cudaSuccess &&
                 cudaStreamSynchronize(s) == cudaSuccess,
             "copy back");
  const unsigned char want = static_cast<unsigned char>(n * (n + 1) / 2);
  for (size_t i = 0; i < bytes; ++i)
    RANK_CHECK(fd, h[i] == want, "allreduce: byte %zu is %d, want %d", i, h[i], want);

  RANK_CHECK(fd, ncclMemFree(send) == ncclSuccess, "ncclMemFree: %s", ncclGetLastError(nullptr));
  RANK_CHECK(fd, ncclMemFree(recv) == ncclSuccess, "ncclMemFree: %s", ncclGetLastError(nullptr));
  RANK_CHECK(fd, ncclMemFree(send) == ncclInvalidArgument, "a second ncclMemFree was not refused");
  if (rank == 0)
    tccl::test::reportf(fd, "MEMALLOC_RESULT ranks=%d memory=device kind=%s allreduce=%zu bytes OK",
                        n, kind.c_str(), bytes);
  cudaStreamDestroy(s);
  ncclCommDestroy(comm);
  return 0;
}

}  // namespace

int main() {
  return tccl::test::printOutcomes(tccl::test::runForkedRanks(2, rankMain));
}
