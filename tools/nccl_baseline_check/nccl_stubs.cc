// Link stubs for nccl_harness.cc: functions NCCL's topology code references but never reaches
// on the XML-only path the harness takes (no communicator, no NVML, no network plugin).
#include "core.h"
#include "graph.h"
#include "net.h"
#include "nvmlwrap.h"
#include "transport.h"
#if NCCL_VERSION_CODE >= 22300
#include "bootstrap.h"
#include "coll_net.h"
#include "env.h"
#endif

ncclResult_t initChannel(ncclComm*, int) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetCudaComputeCapability(nvmlDevice_t, int*, int*) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetFieldValues(nvmlDevice_t, int, nvmlFieldValue_t*) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetHandleByPciBusId(const char*, nvmlDevice_t*) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetIndex(nvmlDevice_t, unsigned*) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetNvLinkCapability(nvmlDevice_t, unsigned, nvmlNvLinkCapability_t,
                                               unsigned*) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetNvLinkRemotePciInfo(nvmlDevice_t, unsigned, nvmlPciInfo_t*) {
  return ncclInternalError;
}
ncclResult_t ncclNvmlDeviceGetNvLinkState(nvmlDevice_t, unsigned, nvmlEnableState_t*) {
  return ncclInternalError;
}
struct ncclNvmlDevicePairInfo ncclNvmlDevicePairs[ncclNvmlMaxDevices][ncclNvmlMaxDevices];
ncclResult_t ncclNvmlEnsureInitialized() {
  return ncclSuccess;
}
#if NCCL_VERSION_CODE >= 22300
struct ncclTransport* ncclTransports[NTRANSPORTS + 1];
ncclResult_t bootstrapIntraNodeAllGather(void*, int*, int, int, void*, int) {
  return ncclInternalError;
}
ncclResult_t ncclCollNetGetDevCount(int, int*, int*) {
  return ncclInternalError;
}
ncclResult_t ncclCollNetSetVirtDevCount(int, int) {
  return ncclInternalError;
}
const char* ncclEnvPluginGetEnv(const char* name) {
  return getenv(name);
}
bool ncclEnvPluginInitialized() {
  return true;
}
ncclResult_t ncclInitEnv() {
  return ncclSuccess;
}
ncclResult_t ncclNetGetDevCount(int, int*, int*) {
  return ncclInternalError;
}
ncclResult_t ncclNetSetVirtDevCount(int, int) {
  return ncclInternalError;
}
int64_t ncclParamWorkArgsBytes() {
  return 0;
}
#else
struct ncclTransport* ncclTransports[NTRANSPORTS];
int ncclNetVersion(ncclComm*) {
  return 7;
}
#endif
