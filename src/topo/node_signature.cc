#include "topo/node_signature.h"

#include <sstream>

namespace tccl {

std::string describeSignature(const NodeSignature& sig) {
  std::ostringstream out;
  out << "cpu \"" << sig.cpuModel << "\", " << sig.numaCount << " NUMA nodes, " << sig.gpus.size()
      << " GPUs, " << sig.nics.size() << " NICs";
  return out.str();
}

}  // namespace tccl
