#include "base/node_identity.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "base/env.h"

namespace tccl {
namespace {
uint64_t hashString(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace

uint64_t physicalHostHash() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string id = host;
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string bootId;
  if (boot >> bootId) id += bootId;
  return hashString(id);
}

uint64_t hostHash() {
  std::string forced = envString("NCCL_HOSTID");
  return forced.empty() ? physicalHostHash() : hashString("NCCL_HOSTID=" + forced);
}

}  // namespace tccl
