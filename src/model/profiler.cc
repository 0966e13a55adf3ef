#include "model/profiler.h"

#include <algorithm>

namespace tccl::pathfinder {

double Profiler::bottleneck(std::span<const Transfer> transfers) {
  std::vector<double> rates = measure(transfers);
  return rates.empty() ? 0 : *std::min_element(rates.begin(), rates.end());
}

}  // namespace tccl::pathfinder
