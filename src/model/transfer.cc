#include "model/transfer.h"

namespace tccl::pathfinder {

std::string describeTransfer(const Transfer& t) {
  auto end = [&](int gpu) {
    return gpu < 0 ? "nic" + std::to_string(t.hop.nic) : std::to_string(gpu);
  };
  return end(t.src) + "->" + end(t.dst) + " " + describeHop(t.hop);
}

}  // namespace tccl::pathfinder
