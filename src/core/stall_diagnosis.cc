#include "core/stall_diagnosis.h"

#include <cstdio>
#include <cstring>

#include "core/communicator.h"

namespace tccl {

std::string stoppedLocalRanks(const std::vector<CommWork>& all) {
  std::string found;
  for (const CommWork& w : all) {
    const RankInfo& me = w.comm->ranks[w.comm->rank];
    for (const RankInfo& r : w.comm->ranks) {
      if (r.rank == me.rank || r.physHostHash != me.physHostHash || r.pid <= 0) continue;
      char path[64], stat[512] = {};
      snprintf(path, sizeof(path), "/proc/%d/stat", r.pid);
      FILE* f = fopen(path, "r");
      const size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
      if (f) fclose(f);
      const char* paren = n ? strrchr(stat, ')') : nullptr;  // "pid (name) S ..."
      const char state = paren && paren[1] == ' ' ? paren[2] : '?';
      std::string what = !f                             ? "has exited"
                         : state == 'T' || state == 't' ? "is stopped"
                         : state == 'Z'                 ? "has exited"
                                                        : "";
      if (!what.empty())
        found += (found.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r.rank) +
                 " (pid " + std::to_string(r.pid) + ") " + what;
    }
  }
  return found;
}

}  // namespace tccl
