// The binary interface of NCCL network plugins (libnccl-net*.so), versions 6 to 10, written
// for TCCL from NCCL's public plugin documentation: ext-net/README.md of
// https://github.com/NVIDIA/nccl (section "API"), and the per-version function lists that the
// same directory publishes for plugin authors (ext-net/example/nccl/net_v6.h ... net_v10.h).
// Only the point-to-point network (ncclNetPlugin_vX) is described; collNet is not used.
//
// A plugin exports one global struct per version it implements, named ncclNetPlugin_v<N>.
// Versions as they appeared in NCCL releases:
//   v6 (NCCL 2.13): the baseline that old plugins (e.g. Google's fast socket) still export;
//                   int sizes, at most 8 requests in flight per comm.
//   v7 (2.19): device offload fields in the properties, devComm arguments to connect/accept,
//              getDeviceMr and irecvConsumed; 32 requests per comm.
//   v8 (2.20): regIsGlobal in the properties; regMr takes a size_t.
//   v9 (2.24): forceFlush, virtual-device properties and max transfer sizes; isend/irecv
//              take size_t sizes; makeVDevice.
//   v10 (2.26): init takes a profiler callback, connect a per-comm config (traffic class),
//               isend/irecv an opaque profiler handle.
// Field order and types are the ABI: never reorder. The static_asserts below pin the LP64
// layout that a plugin built against NCCL's own headers has.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <cstdint>

namespace tccl::netabi {

constexpr int kHandleMaxBytes = 128;  // NCCL_NET_HANDLE_MAXSIZE: connect handle size

// ptrSupport bits and regMr types.
constexpr int kPtrHost = 0x1;    // NCCL_PTR_HOST
constexpr int kPtrCuda = 0x2;    // NCCL_PTR_CUDA
constexpr int kPtrDmaBuf = 0x4;  // NCCL_PTR_DMABUF (ptrSupport only; register with regMrDmaBuf)

// Requests a comm must accept in flight (NCCL_NET_MAX_REQUESTS): 8 up to v6, 32 from v7 on.
constexpr int kMaxRequestsV6 = 8;
constexpr int kMaxRequests = 32;

// What NCCL hands int-sized ABIs (v6 to v8) at most per isend/irecv (its MAX_NET_SIZE).
constexpr size_t kMaxIntAbiMessageBytes = size_t{1} << 30;

constexpr int kMaxDevsPerVirtualNic = 4;  // NCCL_NET_MAX_DEVS_PER_NIC (v9, v10)

// The plugin's log levels and subsystem flags (ncclDebugLogLevel, ncclDebugLogSubSys).
enum PluginLogLevel {
  kPluginLogNone = 0,
  kPluginLogVersion = 1,
  kPluginLogWarn = 2,
  kPluginLogInfo = 3,
  kPluginLogAbort = 4,
  kPluginLogTrace = 5,
};
constexpr unsigned long kPluginFlagInit = 0x1, kPluginFlagColl = 0x2, kPluginFlagP2p = 0x4,
                        kPluginFlagShm = 0x8, kPluginFlagNet = 0x10, kPluginFlagGraph = 0x20,
                        kPluginFlagEnv = 0x80, kPluginFlagAlloc = 0x100,
                        kPluginFlagBootstrap = 0x1000;
using Logger = void (*)(PluginLogLevel level, unsigned long flags, const char* file, int line,
                        const char* fmt, ...);
// v10: lets a plugin record its own events with the profiler.
using ProfilerCallback = ncclResult_t (*)(void** eHandle, int type, void* pHandle, int64_t pluginId,
                                          void* extData);

// Device offload (v7+). TCCL never asks for it: it passes a null devComm to connect/accept.
enum DeviceType { kDeviceHost = 0, kDeviceUnpack = 1 };
struct DeviceHandle {
  DeviceType netDeviceType;
  int netDeviceVersion;
  void* handle;
  size_t size;
  int needsProxyProgress;
};

struct VirtualDeviceProps {  // v9, v10
  int ndevs;
  int devs[kMaxDevsPerVirtualNic];
};

struct CommConfigV10 {
  int trafficClass;  // -1: undefined, the plugin's default
};
constexpr int kTrafficClassUndefined = -1;

// ---- getProperties results, one shape per version.

// The link fields, from speed to maxRecvs: in this order in every version.
#define TCCL_NETABI_LINK_PROPERTIES \
  int speed; /* Mbps */             \
  int port;                         \
  float latency; /* microseconds */ \
  int maxComms;                     \
  int maxRecvs; /* most buffers one grouped irecv may carry */

struct PropertiesV6 {
  char* name;      // for logs
  char* pciPath;   // the device's directory under /sys, or null for a virtual NIC
  uint64_t guid;   // equal guids: one physical port behind several PCI functions
  int ptrSupport;  // kPtr* bits
  TCCL_NETABI_LINK_PROPERTIES
};

struct PropertiesV7 {
  char* name;
  char* pciPath;
  uint64_t guid;
  int ptrSupport;
  TCCL_NETABI_LINK_PROPERTIES
  DeviceType netDeviceType;
  int netDeviceVersion;
};

struct PropertiesV8 {
  char* name;
  char* pciPath;
  uint64_t guid;
  int ptrSupport;
  int regIsGlobal;  // a registration is usable on every comm, not only the one it was made on
  TCCL_NETABI_LINK_PROPERTIES
  DeviceType netDeviceType;
  int netDeviceVersion;
};

struct PropertiesV9 {
  char* name;
  char* pciPath;
  uint64_t guid;
  int ptrSupport;
  int regIsGlobal;
  int forceFlush;  // flush every receive, whatever the GPU and PCI topology
  TCCL_NETABI_LINK_PROPERTIES
  DeviceType netDeviceType;
  int netDeviceVersion;
  VirtualDeviceProps vProps;
  size_t maxP2pBytes;  // largest single isend/irecv
  size_t maxCollBytes;
};
using PropertiesV10 = PropertiesV9;  // unchanged in v10

#undef TCCL_NETABI_LINK_PROPERTIES

// ---- the function tables. "Comm" arguments are the plugin's opaque objects; requests
// returned null mean "not now, call again"; connect/accept return a null comm until done.

// The entries whose signature changed between versions.
using InitFn = ncclResult_t (*)(Logger logFunction);
using InitV10Fn = ncclResult_t (*)(Logger logFunction, ProfilerCallback profFunction);
using ConnectV6Fn = ncclResult_t (*)(int dev, void* handle, void** sendComm);
using ConnectV7Fn = ncclResult_t (*)(int dev, void* handle, void** sendComm,
                                     DeviceHandle** sendDevComm);
using ConnectV10Fn = ncclResult_t (*)(int dev, CommConfigV10* config, void* handle, void** sendComm,
                                      DeviceHandle** sendDevComm);
using AcceptV6Fn = ncclResult_t (*)(void* listenComm, void** recvComm);
using AcceptV7Fn = ncclResult_t (*)(void* listenComm, void** recvComm, DeviceHandle** recvDevComm);
using IsendIntFn = ncclResult_t (*)(void* sendComm, void* data, int size, int tag, void* mhandle,
                                    void** request);
using IsendV9Fn = ncclResult_t (*)(void* sendComm, void* data, size_t size, int tag, void* mhandle,
                                   void** request);
using IsendV10Fn = ncclResult_t (*)(void* sendComm, void* data, size_t size, int tag, void* mhandle,
                                    void* pHandle, void** request);
using IrecvIntFn = ncclResult_t (*)(void* recvComm, int n, void** data, int* sizes, int* tags,
                                    void** mhandles, void** request);
using IrecvV9Fn = ncclResult_t (*)(void* recvComm, int n, void** data, size_t* sizes, int* tags,
                                   void** mhandles, void** request);
using IrecvV10Fn = ncclResult_t (*)(void* recvComm, int n, void** data, size_t* sizes, int* tags,
                                    void** mhandles, void** pHandles, void** request);

// The 17 entries every version has, in ABI order (the whole v6 table). Newer tables derive
// from it and append theirs; the base is plain data, so they start right after it.
template <class Properties, class Init, class Connect, class Accept, class RegMrSize, class Isend,
          class Irecv>
struct NetCommon {
  const char* name;
  Init init;
  ncclResult_t (*devices)(int* ndev);
  ncclResult_t (*getProperties)(int dev, Properties* props);
  ncclResult_t (*listen)(int dev, void* handle, void** listenComm);
  Connect connect;
  Accept accept;
  ncclResult_t (*regMr)(void* comm, void* data, RegMrSize size, int type, void** mhandle);
  ncclResult_t (*regMrDmaBuf)(void* comm, void* data, size_t size, int type, uint64_t offset,
                              int fd, void** mhandle);
  ncclResult_t (*deregMr)(void* comm, void* mhandle);
  Isend isend;
  Irecv irecv;
  ncclResult_t (*iflush)(void* recvComm, int n, void** data, int* sizes, void** mhandles,
                         void** request);
  ncclResult_t (*test)(void* request, int* done, int* sizes);
  ncclResult_t (*closeSend)(void* sendComm);
  ncclResult_t (*closeRecv)(void* recvComm);
  ncclResult_t (*closeListen)(void* listenComm);
};

using NetV6 = NetCommon<PropertiesV6, InitFn, ConnectV6Fn, AcceptV6Fn, int, IsendIntFn, IrecvIntFn>;

using GetDeviceMrFn = ncclResult_t (*)(void* comm, void* mhandle, void** dptrMhandle);
using IrecvConsumedFn = ncclResult_t (*)(void* recvComm, int n, void* request);
using MakeVDeviceFn = ncclResult_t (*)(int* d, VirtualDeviceProps* props);

struct NetV7
    : NetCommon<PropertiesV7, InitFn, ConnectV7Fn, AcceptV7Fn, int, IsendIntFn, IrecvIntFn> {
  GetDeviceMrFn getDeviceMr;
  IrecvConsumedFn irecvConsumed;
};

struct NetV8
    : NetCommon<PropertiesV8, InitFn, ConnectV7Fn, AcceptV7Fn, size_t, IsendIntFn, IrecvIntFn> {
  GetDeviceMrFn getDeviceMr;
  IrecvConsumedFn irecvConsumed;
};

struct NetV9
    : NetCommon<PropertiesV9, InitFn, ConnectV7Fn, AcceptV7Fn, size_t, IsendV9Fn, IrecvV9Fn> {
  GetDeviceMrFn getDeviceMr;
  IrecvConsumedFn irecvConsumed;
  MakeVDeviceFn makeVDevice;  // may be null
};

struct NetV10 : NetCommon<PropertiesV10, InitV10Fn, ConnectV10Fn, AcceptV7Fn, size_t, IsendV10Fn,
                          IrecvV10Fn> {
  GetDeviceMrFn getDeviceMr;
  IrecvConsumedFn irecvConsumed;
  MakeVDeviceFn makeVDevice;  // may be null
};

// The exported symbol of each version, newest first: the order a loader tries them in.
struct AbiSymbol {
  int version;
  const char* symbol;
};
constexpr AbiSymbol kAbiSymbols[] = {
    {10, "ncclNetPlugin_v10"}, {9, "ncclNetPlugin_v9"}, {8, "ncclNetPlugin_v8"},
    {7, "ncclNetPlugin_v7"},   {6, "ncclNetPlugin_v6"},
};

#if defined(__x86_64__) || defined(__aarch64__)
static_assert(sizeof(DeviceHandle) == 32);
static_assert(sizeof(PropertiesV6) == 48 && offsetof(PropertiesV6, maxRecvs) == 44);
static_assert(sizeof(PropertiesV7) == 56 && offsetof(PropertiesV7, netDeviceVersion) == 52);
static_assert(sizeof(PropertiesV8) == 64 && offsetof(PropertiesV8, regIsGlobal) == 28 &&
              offsetof(PropertiesV8, netDeviceVersion) == 56);
static_assert(sizeof(PropertiesV9) == 104 && offsetof(PropertiesV9, vProps) == 64 &&
              offsetof(PropertiesV9, maxP2pBytes) == 88);
static_assert(sizeof(NetV6) == 17 * sizeof(void*));
static_assert(sizeof(NetV7) == 19 * sizeof(void*));
static_assert(sizeof(NetV8) == 19 * sizeof(void*));
static_assert(sizeof(NetV9) == 20 * sizeof(void*));
static_assert(sizeof(NetV10) == 20 * sizeof(void*));
#endif

}  // namespace tccl::netabi
