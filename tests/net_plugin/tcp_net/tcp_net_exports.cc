// The ABI tables one build of the test plugin exports, chosen by compile definitions:
//   TESTNET_V6 ... TESTNET_V10  export ncclNetPlugin_v<N> (any combination)
//   TESTNET_INIT_FAILS          init fails with ncclSystemError
//   TESTNET_NULL_ISEND          the tables lack isend (a broken plugin)
// With none of the TESTNET_V* definitions the library exports no table at all.
#include <cstring>

#include "tcp_net.h"

namespace {

using namespace tccl::netabi;

[[maybe_unused]] constexpr const char* kName = "TestTCP";

#if defined(TESTNET_NULL_ISEND)
#define TESTNET_ISEND(fn) nullptr
#else
#define TESTNET_ISEND(fn) fn
#endif

ncclResult_t initCore(Logger logger) {
#if defined(TESTNET_INIT_FAILS)
  if (logger)
    logger(kPluginLogInfo, kPluginFlagNet, __FILE__, __LINE__,
           "NET/TestTCP: init fails on purpose");
  return ncclSystemError;
#else
  return tcpnet::init(logger);
#endif
}

// Fills the fields every version has; the caller adds the newer ones.
template <class Props>
ncclResult_t commonProperties(int dev, Props* props, tcpnet::DeviceInfo* info) {
  ncclResult_t res = tcpnet::deviceInfo(dev, info);
  if (res != ncclSuccess) return res;
  memset(props, 0, sizeof(*props));
  props->name = const_cast<char*>(info->name);
  props->pciPath = const_cast<char*>(info->pciPath);
  props->guid = static_cast<uint64_t>(dev);
  props->ptrSupport = info->ptrSupport;
  props->speed = info->speedMbps;
  props->port = 0;
  props->latency = 0;
  props->maxComms = 65536;
  props->maxRecvs = info->maxRecvs;
  return ncclSuccess;
}

[[maybe_unused]] ncclResult_t regMrInt(void* comm, void* data, int size, int type, void** mh) {
  if (size < 0) return ncclInternalError;
  return tcpnet::regMr(comm, data, static_cast<size_t>(size), type, mh);
}

[[maybe_unused]] ncclResult_t isendInt(void* comm, void* data, int size, int tag, void* mh,
                                       void** request) {
  if (size < 0) return ncclInternalError;
  return tcpnet::isend(comm, data, static_cast<size_t>(size), tag, mh, request);
}

[[maybe_unused]] ncclResult_t irecvInt(void* comm, int n, void** data, int* sizes, int* tags,
                                       void** mhandles, void** request) {
  size_t wide[tccl::netabi::kMaxRequests];
  if (n < 1 || n > tccl::netabi::kMaxRequests) return ncclInternalError;
  for (int i = 0; i < n; ++i) {
    if (sizes[i] < 0) return ncclInternalError;
    wide[i] = static_cast<size_t>(sizes[i]);
  }
  return tcpnet::irecv(comm, n, data, wide, tags, mhandles, request);
}

[[maybe_unused]] ncclResult_t irecvWide(void* comm, int n, void** data, size_t* sizes, int* tags,
                                        void** mhandles, void** request) {
  return tcpnet::irecv(comm, n, data, sizes, tags, mhandles, request);
}

[[maybe_unused]] ncclResult_t propertiesV6(int dev, PropertiesV6* props) {
  tcpnet::DeviceInfo info{};
  return commonProperties(dev, props, &info);
}

[[maybe_unused]] ncclResult_t propertiesV7(int dev, PropertiesV7* props) {
  tcpnet::DeviceInfo info{};
  ncclResult_t res = commonProperties(dev, props, &info);
  props->netDeviceType = kDeviceHost;
  return res;
}

[[maybe_unused]] ncclResult_t propertiesV8(int dev, PropertiesV8* props) {
  tcpnet::DeviceInfo info{};
  ncclResult_t res = commonProperties(dev, props, &info);
  props->regIsGlobal = 0;
  props->netDeviceType = kDeviceHost;
  return res;
}

[[maybe_unused]] ncclResult_t propertiesV9(int dev, PropertiesV9* props) {
  tcpnet::DeviceInfo info{};
  ncclResult_t res = commonProperties(dev, props, &info);
  props->netDeviceType = kDeviceHost;
  props->vProps.ndevs = static_cast<int>(info.fused->size());
  for (size_t i = 0; i < info.fused->size(); ++i) props->vProps.devs[i] = (*info.fused)[i];
  props->maxP2pBytes = info.maxP2pBytes;
  props->maxCollBytes = info.maxP2pBytes;
  return res;
}

[[maybe_unused]] ncclResult_t initV10(Logger logger, ProfilerCallback) {
  return initCore(logger);
}

[[maybe_unused]] ncclResult_t connectV10(int dev, CommConfigV10*, void* handle, void** comm,
                                         DeviceHandle**) {
  return tcpnet::connect(dev, handle, comm);
}

[[maybe_unused]] ncclResult_t isendV10(void* comm, void* data, size_t size, int tag, void* mh,
                                       void*, void** request) {
  return tcpnet::isend(comm, data, size, tag, mh, request);
}

[[maybe_unused]] ncclResult_t irecvV10(void* comm, int n, void** data, size_t* sizes, int* tags,
                                       void** mhandles, void**, void** request) {
  return tcpnet::irecv(comm, n, data, sizes, tags, mhandles, request);
}

[[maybe_unused]] ncclResult_t connectDev(int dev, void* handle, void** comm, DeviceHandle**) {
  return tcpnet::connect(dev, handle, comm);
}

[[maybe_unused]] ncclResult_t acceptDev(void* listenComm, void** comm, DeviceHandle**) {
  return tcpnet::accept(listenComm, comm);
}

// The entries of the table base `Common` (see NetCommon); the versioned ones are passed in.
template <class Common>
constexpr Common commonTable(decltype(Common::init) init,
                             decltype(Common::getProperties) getProperties,
                             decltype(Common::connect) connect, decltype(Common::accept) accept,
                             decltype(Common::regMr) regMr, decltype(Common::isend) isend,
                             decltype(Common::irecv) irecv) {
  return {kName,
          init,
          tcpnet::devices,
          getProperties,
          tcpnet::listen,
          connect,
          accept,
          regMr,
          nullptr,
          tcpnet::deregMr,
          isend,
          irecv,
          tcpnet::iflush,
          tcpnet::test,
          tcpnet::closeSend,
          tcpnet::closeRecv,
          tcpnet::closeListen};
}

}  // namespace

// Exported tables: C names, default visibility (the build hides everything else).
#define TESTNET_EXPORT __attribute__((visibility("default")))

extern "C" {

#if defined(TESTNET_V6)
TESTNET_EXPORT NetV6 ncclNetPlugin_v6 =
    commonTable<NetV6>(initCore, propertiesV6, tcpnet::connect, tcpnet::accept, regMrInt,
                       TESTNET_ISEND(isendInt), irecvInt);
#endif

// getDeviceMr and irecvConsumed stay null: TCCL never offloads to the device.
#if defined(TESTNET_V7)
TESTNET_EXPORT NetV7 ncclNetPlugin_v7 = {
    commonTable<NetV7::NetCommon>(initCore, propertiesV7, connectDev, acceptDev, regMrInt,
                                  TESTNET_ISEND(isendInt), irecvInt),
    nullptr, nullptr};
#endif

#if defined(TESTNET_V8)
TESTNET_EXPORT NetV8 ncclNetPlugin_v8 = {
    commonTable<NetV8::NetCommon>(initCore, propertiesV8, connectDev, acceptDev, tcpnet::regMr,
                                  TESTNET_ISEND(isendInt), irecvInt),
    nullptr, nullptr};
#endif

#if defined(TESTNET_V9)
TESTNET_EXPORT NetV9 ncclNetPlugin_v9 = {
    commonTable<NetV9::NetCommon>(initCore, propertiesV9, connectDev, acceptDev, tcpnet::regMr,
                                  TESTNET_ISEND(tcpnet::isend), irecvWide),
    nullptr, nullptr, tcpnet::makeVDevice};
#endif

#if defined(TESTNET_V10)
TESTNET_EXPORT NetV10 ncclNetPlugin_v10 = {
    commonTable<NetV10::NetCommon>(initV10, propertiesV9, connectV10, acceptDev, tcpnet::regMr,
                                   TESTNET_ISEND(isendV10), irecvV10),
    nullptr, nullptr, tcpnet::makeVDevice};
#endif

}  // extern "C"
