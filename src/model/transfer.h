// A transfer: one hop of a ring or chain, running continuously while others run beside it.
#pragma once

#include <string>

#include "plan/hop.h"

namespace tccl::pathfinder {

struct Transfer {
  Hop hop;
  int src = -1;  // GPU index; -1: the NIC hop.nic (a net entry)
  int dst = -1;  // GPU index; -1: the NIC hop.nic (a net exit)

  bool isEntry() const { return src < 0; }
  bool isExit() const { return dst < 0; }
};

// e.g. "0->1 p2p_write/kernel", "nic0->2 net0/gdr".
std::string describeTransfer(const Transfer& t);

}  // namespace tccl::pathfinder
