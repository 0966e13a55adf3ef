// Placing a chosen net plugin's devices among this node's NICs at init (topo/plugin_nics.h),
// so that a NIC hop of the plan goes through the plugin device on that NIC.
#pragma once

#include <optional>
#include <string>

#include "topo/topology.h"

struct ncclComm;

namespace tccl {

// Sets comm->pluginNics when a plugin was chosen: its devices mapped onto `topology` (null:
// none known, `whyNone` says why). One INFO line per device, once per process. Returns the
// topology with the plugin's NICs added (nullopt without a plugin or a topology).
std::optional<topo::Topology> setupPluginNics(ncclComm* comm, const topo::Topology* topology,
                                              const std::string& whyNone);

}  // namespace tccl
