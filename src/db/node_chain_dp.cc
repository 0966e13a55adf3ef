#include "db/node_chain_dp.h"

#include <algorithm>
#include <array>

namespace tccl::db {

ChainChoice chooseNodeChains(const std::vector<std::vector<ChainOption>>& options) {
  ChainChoice best;
  const size_t n = options.size();
  if (n == 0) return best;
  for (const auto& opts : options)
    if (opts.empty()) return best;

  // For each closing code h (what node n-1 sends to node 0): best[i][t] is the best bottleneck
  // of nodes 0..i with node 0 receiving h and node i sending t; from[i][t] the option used.
  constexpr double kNone = -1;
  for (int h = 0; h < kTransferCodes; ++h) {
    std::vector<std::array<double, kTransferCodes>> score(n);
    std::vector<std::array<int, kTransferCodes>> from(n);
    for (size_t i = 0; i < n; ++i) {
      score[i].fill(kNone);
      from[i].fill(-1);
      for (size_t o = 0; o < options[i].size(); ++o) {
        const ChainOption& opt = options[i][o];
        if (opt.inCode < 0 || opt.inCode >= kTransferCodes || opt.outCode < 0 ||
            opt.outCode >= kTransferCodes)
          continue;
        double upstream;
        if (i == 0)
          upstream = opt.inCode == h ? opt.gbps : kNone;
        else
          upstream = score[i - 1][opt.inCode];
        if (upstream == kNone) continue;
        const double s = std::min(upstream, opt.gbps);
        if (s > score[i][opt.outCode]) {
          score[i][opt.outCode] = s;
          from[i][opt.outCode] = static_cast<int>(o);
        }
      }
    }
    const double ring = score[n - 1][h];
    if (ring == kNone || ring <= best.gbps) continue;
    best.gbps = ring;
    best.option.assign(n, -1);
    int code = h;
    for (size_t i = n; i-- > 0;) {
      const int o = from[i][code];
      best.option[i] = o;
      code = options[i][o].inCode;
    }
  }
  return best;
}

}  // namespace tccl::db
