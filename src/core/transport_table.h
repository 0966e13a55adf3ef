// The transports a communicator may set its hops up with, in the order they are tried: the
// first whose canConnect accepts a hop serves it. Adding a transport means adding an entry
// here, not a branch in another transport.
#pragma once

#include <span>

#include "transport/transport.h"

namespace tccl {

std::span<const Transport* const> transportTable();
// The transport that serves `hop`; sets the error and returns null when none can.
const Transport* transportFor(const HopContext& ctx, const HopSetup& hop);

}  // namespace tccl
