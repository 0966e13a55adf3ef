// The version-independent core of the in-tree test plugin: a plain TCP network with the
// NCCL net plugin's semantics (non-blocking connect/accept, ordered isend/irecv matched by
// tag, test-driven progress, registrations checked on every call). tcp_net_exports.cc wraps it
// in the ABI tables that one build exports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "transport/net_plugin/net_plugin_abi.h"

namespace tcpnet {

// Properties of a device in the newest shape; exports narrow them to their version.
struct DeviceInfo {
  const char* name;
  const char* pciPath;  // null: virtual
  int ptrSupport;
  int speedMbps;
  int maxRecvs;
  size_t maxP2pBytes;
  const std::vector<int>* fused;  // the physical devices behind it (itself when physical)
};

ncclResult_t init(tccl::netabi::Logger logger);
ncclResult_t devices(int* ndev);
ncclResult_t deviceInfo(int dev, DeviceInfo* out);
// NIC fusion (v9+): a device that stands for several; it uses the first one's address.
ncclResult_t makeVDevice(int* dev, tccl::netabi::VirtualDeviceProps* props);
ncclResult_t listen(int dev, void* handle, void** listenComm);
ncclResult_t connect(int dev, void* handle, void** sendComm);
ncclResult_t accept(void* listenComm, void** recvComm);
ncclResult_t regMr(void* comm, void* data, size_t size, int type, void** mhandle);
ncclResult_t deregMr(void* comm, void* mhandle);
ncclResult_t isend(void* sendComm, void* data, size_t size, int tag, void* mhandle, void** request);
ncclResult_t irecv(void* recvComm, int n, void** data, const size_t* sizes, int* tags,
                   void** mhandles, void** request);
ncclResult_t iflush(void* recvComm, int n, void** data, int* sizes, void** mhandles,
                    void** request);
ncclResult_t test(void* request, int* done, int* sizes);
ncclResult_t closeSend(void* sendComm);
ncclResult_t closeRecv(void* recvComm);
ncclResult_t closeListen(void* listenComm);

}  // namespace tcpnet
