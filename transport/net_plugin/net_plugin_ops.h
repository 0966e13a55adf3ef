// The calls of one plugin ABI version behind one set of signatures (size_t sizes, no device
// offload, no profiler handles). net_plugin_versions.cc implements it for v6 to v10; NetPlugin
// is the only user.
#pragma once

#include <cstdint>
#include <memory>

#include "transport/net_plugin/net_plugin_abi.h"

namespace tccl {

struct NetDeviceProperties;

class NetOps {
 public:
  virtual ~NetOps() = default;
  virtual int version() const = 0;
  virtual const char* name() const = 0;
  // The first entry that every caller needs but the table leaves null; nullptr when complete.
  virtual const char* missingFunction() const = 0;
  // NCCL_NET_MAX_REQUESTS of this version; the largest size one isend/irecv can express.
  virtual int maxRequests() const = 0;
  virtual size_t maxMessageBytes() const = 0;
  virtual size_t maxRegistrationBytes() const = 0;

  virtual ncclResult_t init(netabi::Logger logger, netabi::ProfilerCallback profiler) = 0;
  virtual ncclResult_t devices(int* ndev) = 0;
  virtual ncclResult_t getProperties(int dev, NetDeviceProperties* out) = 0;
  virtual ncclResult_t listen(int dev, void* handle, void** listenComm) = 0;
  virtual ncclResult_t connect(int dev, void* handle, void** sendComm) = 0;
  virtual ncclResult_t accept(void* listenComm, void** recvComm) = 0;
  virtual ncclResult_t regMr(void* comm, void* data, size_t size, int type, void** mhandle) = 0;
  virtual bool hasRegMrDmaBuf() const = 0;
  virtual ncclResult_t regMrDmaBuf(void* comm, void* data, size_t size, int type, uint64_t offset,
                                   int fd, void** mhandle) = 0;
  virtual ncclResult_t deregMr(void* comm, void* mhandle) = 0;
  virtual ncclResult_t isend(void* sendComm, void* data, size_t size, int tag, void* mhandle,
                             void** request) = 0;
  // n <= kMaxGroupedRecvs.
  virtual ncclResult_t irecv(void* recvComm, int n, void** data, const size_t* sizes, int* tags,
                             void** mhandles, void** request) = 0;
  virtual ncclResult_t iflush(void* recvComm, int n, void** data, int* sizes, void** mhandles,
                              void** request) = 0;
  virtual ncclResult_t test(void* request, int* done, int* sizes) = 0;
  virtual ncclResult_t closeSend(void* sendComm) = 0;
  virtual ncclResult_t closeRecv(void* recvComm) = 0;
  virtual ncclResult_t closeListen(void* listenComm) = 0;
  virtual bool hasMakeVDevice() const = 0;
  virtual ncclResult_t makeVDevice(int* dev, const netabi::VirtualDeviceProps& props) = 0;
};

// Most buffers one grouped irecv carries through TCCL (NCCL's IB plugin groups at most 8).
constexpr int kMaxGroupedRecvs = 8;

// `table` is the plugin's exported ncclNetPlugin_v<version> struct; null for another version.
std::unique_ptr<NetOps> makeNetOps(int version, const void* table);

}  // namespace tccl
