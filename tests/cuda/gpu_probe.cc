// What this machine's CUDA offers, for tests/gpu/run.sh to decide which steps can run there.
// One "PROBE key=value" line each; exit code 0 whenever the probe itself ran (a machine
// without a GPU is an answer, not an error):
//   PROBE cuda_runtime=13.0        the CUDA runtime linked in (static)
//   PROBE driver=13.0 | none (why) the CUDA version the driver supports
//   PROBE device0=NAME sm_90 0000:3b:00.0 139.8GiB ...
//   PROBE usable=yes | no (why)    what every device test asks (cudaDeviceAvailable)
//   PROBE ipc=yes | no (why)       cudaIpcOpenMemHandle of another process's memory (p2p hops)
//   PROBE host_register=yes | no (why)
//                                  cudaHostRegister of a POSIX shm segment (bounce hops)
// CUDA is used only in forked children: the exporter and the importer of the IPC check must
// be two processes, and a process that initialised CUDA cannot fork a CUDA child.
#include <cuda_runtime.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "device/cuda/cuda_backend.h"
#include "device/cuda/cuda_raii.h"
#include "transport/shm/shm_segment.h"

using namespace tccl;

namespace {

std::string version(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

std::string errorText(const char* what, cudaError_t e) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

// Runs fn in a child whose stdout is this one's; its exit code, or -1 when it crashed.
int inChild(const std::function<int()>& fn) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int rc = fn();
    std::fflush(stdout);
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int describeMachine() {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  std::printf("PROBE cuda_runtime=%s\n", version(runtime).c_str());
  const cudaError_t e = cudaDriverGetVersion(&driver);
  if (e != cudaSuccess || driver == 0)
    std::printf("PROBE driver=none (%s)\n", e != cudaSuccess
                                                ? errorText("cudaDriverGetVersion", e).c_str()
                                                : "no CUDA driver is installed");
  else
    std::printf("PROBE driver=%s\n", version(driver).c_str());
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) n = 0;
  (void)cudaGetLastError();
  std::printf("PROBE devices=%d\n", n);
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    int hostNuma = -1;
    if (cudaDeviceGetAttribute(&hostNuma, cudaDevAttrHostNumaId, d) != cudaSuccess) hostNuma = -1;
    (void)cudaGetLastError();
    std::printf("PROBE device%d=%s sm_%d%d %04x:%02x:%02x.0 %.1fGiB %d SMs host-NUMA %d\n", d,
                p.name, p.major, p.minor, p.pciDomainID, p.pciBusID, p.pciDeviceID,
                static_cast<double>(p.totalGlobalMem) / (1 << 30), p.multiProcessorCount, hostNuma);
  }
  std::string why;
  const bool usable = cudaDeviceAvailable(&why);
  std::printf("PROBE usable=%s\n", usable ? "yes" : ("no (" + why + ")").c_str());
  return usable ? 0 : 1;
}

// Exporter: device memory holding a pattern, its IPC handle written to `fd`; waits for the
// importer's verdict on `back` before freeing.
int exportMemory(int fd, int back) {
  DeviceMemory mem;
  cudaIpcMemHandle_t handle{};
  cudaError_t e = allocDevice(4096, &mem);
  if (e == cudaSuccess) e = cudaMemset(mem.get(), 0x5a, 4096);
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  if (e == cudaSuccess) e = cudaIpcGetMemHandle(&handle, mem.get());
  if (e != cudaSuccess) {
    std::printf("PROBE ipc=no (%s)\n", errorText("exporter", e).c_str());
    std::memset(&handle, 0, sizeof(handle));
  }
  if (write(fd, &handle, sizeof(handle)) != static_cast<ssize_t>(sizeof(handle))) return 2;
  char done = 0;
  if (read(back, &done, 1) != 1) return 2;
  return e == cudaSuccess ? 0 : 1;
}

int importMemory(int fd, int back) {
  cudaIpcMemHandle_t handle{}, none{};
  const bool got = read(fd, &handle, sizeof(handle)) == static_cast<ssize_t>(sizeof(handle));
  int rc = 1;
  if (got && std::memcmp(&handle, &none, sizeof(handle)) != 0) {
    IpcMapping mapped;
    unsigned char seen = 0;
    cudaError_t e = openIpc(handle, &mapped);
    if (e == cudaSuccess) e = cudaMemcpy(&seen, mapped.get(), 1, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess)
      std::printf("PROBE ipc=no (%s)\n", errorText("importer", e).c_str());
    else if (seen != 0x5a)
      std::printf("PROBE ipc=no (the importer read 0x%02x, not 0x5a)\n", seen);
    else
      rc = 0;
  }
  if (rc == 0) std::printf("PROBE ipc=yes\n");
  const char done = 1;
  return write(back, &done, 1) == 1 ? rc : 2;
}

int checkIpc() {
  int handles[2], verdict[2];
  if (pipe(handles) != 0 || pipe(verdict) != 0) {
    std::printf("PROBE ipc=no (pipe failed)\n");
    return 1;
  }
  std::fflush(stdout);
  const pid_t exporter = fork();
  if (exporter == 0) _exit(exportMemory(handles[1], verdict[0]));
  const int rc = inChild([&] { return importMemory(handles[0], verdict[1]); });
  int status = 0;
  if (exporter > 0) waitpid(exporter, &status, 0);
  return rc;
}

int checkHostRegister() {
  ShmSegment seg;
  const std::string name = "/tccl-probe-" + std::to_string(getpid());
  if (ShmSegment::create(name, 1 << 20, -1, &seg) != ncclSuccess) {
    std::printf("PROBE host_register=no (cannot create the shm segment %s)\n", name.c_str());
    return 1;
  }
  seg.unlink();
  HostRegistration reg;
  void* dev = nullptr;
  const cudaError_t e = registerHost(seg.data(), seg.size(), &reg, &dev);
  if (e != cudaSuccess) {
    std::printf("PROBE host_register=no (%s)\n", errorText("cudaHostRegister", e).c_str());
    return 1;
  }
  std::printf("PROBE host_register=yes\n");
  return 0;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (inChild(describeMachine) != 0) {
    std::printf("PROBE ipc=no (no usable device)\nPROBE host_register=no (no usable device)\n");
    return 0;
  }
  if (inChild(checkIpc) < 0) std::printf("PROBE ipc=no (the check crashed)\n");
  if (inChild(checkHostRegister) < 0) std::printf("PROBE host_register=no (the check crashed)\n");
  return 0;
}
