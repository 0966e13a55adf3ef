// libFuzzer entry: bytes to the topology file loader (TCCL_SIM_TOPOLOGY, tccl-pathfinder
// --topology). It must never crash, throw, hang or leak; a topology that loads must answer the
// queries the runtime and the pathfinder ask of it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "topo/topology.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tccl::topo;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadedTopology loaded = parseTopology(text, "fuzz.json");
  if (!loaded.topology) {
    if (loaded.error.empty()) abort();  // a rejection must say why
    return 0;
  }
  const Topology& t = *loaded.topology;
  (void)tccl::describeSignature(signatureOf(t));
  const int gpus = static_cast<int>(t.gpus.size());
  for (int g = 0; g < gpus; ++g) {
    (void)numaSocket(t, gpuNuma(t, g));
    (void)pcieAncestors(t, t.gpus[g].parent);
    for (int h = 0; h < gpus; ++h) (void)shareSwitch(t, g, h);
  }
  return 0;
}
