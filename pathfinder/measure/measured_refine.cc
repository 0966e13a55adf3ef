#include "measure/measured_refine.h"

#include <algorithm>
#include <stdexcept>

#include "model/node_plan.h"

namespace tccl::pathfinder {
namespace {

struct Measured {
  std::vector<db::Channel> channels;
  double gbps = 0;
};

// channels x the slowest transfer with all channels running; each channel's own rate alone.
Measured measure(Profiler& profiler, std::vector<db::Channel> channels, bool chained,
                 const Hop& entry, const Hop& exit) {
  std::vector<Transfer> all;
  for (const db::Channel& ch : channels) {
    std::vector<Transfer> t = channelTransfers(ch, chained, entry, exit);
    all.insert(all.end(), t.begin(), t.end());
  }
  std::vector<double> rates = profiler.measure(all);
  double slowest = rates.empty() ? 0 : *std::min_element(rates.begin(), rates.end());
  Measured m;
  m.gbps = static_cast<double>(channels.size()) * slowest;
  for (db::Channel& ch : channels) {
    if (channels.size() == 1) {
      ch.gbps = slowest;
      continue;
    }
    std::vector<double> alone = profiler.measure(channelTransfers(ch, chained, entry, exit));
    ch.gbps = alone.empty() ? 0 : *std::min_element(alone.begin(), alone.end());
  }
  m.channels = std::move(channels);
  return m;
}

template <typename Entry>
void refine(Entry& e, Profiler& profiler, int topK, bool chained, const Hop& entry, const Hop& exit,
            MeasureReport& rep) {
  ++rep.entries;
  std::vector<std::vector<db::Channel>> candidates = rankedCandidates(e.channels, topK);
  try {
    Measured best;
    size_t bestRank = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      Measured m = measure(profiler, candidates[i], chained, entry, exit);
      ++rep.candidates;
      if (i == 0 || m.gbps > best.gbps) {
        best = std::move(m);
        bestRank = i;
      }
    }
    if (candidates.empty()) return;
    e.channels = std::move(best.channels);
    e.gbps = best.gbps;
    ++rep.measured;
    if (bestRank > 0) ++rep.changed;
  } catch (const std::invalid_argument&) {
    ++rep.unmeasurable;
  }
}

}  // namespace

std::vector<std::vector<db::Channel>> rankedCandidates(const std::vector<db::Channel>& channels,
                                                       int topK) {
  std::vector<std::vector<db::Channel>> out;
  if (channels.empty() || topK < 1) return out;
  out.push_back(channels);
  if (channels.size() > 1) out.push_back({channels.front()});
  if (out.size() > static_cast<size_t>(topK)) out.resize(topK);
  return out;
}

void measureTopCandidates(db::Database& db, Profiler& profiler, int topK, MeasureReport* report) {
  MeasureReport rep;
  for (db::NodeType& node : db.nodes) {
    for (db::IntraEntry& e : node.intra) refine(e, profiler, topK, false, Hop{}, Hop{}, rep);
    for (db::InterEntry& e : node.inter) refine(e, profiler, topK, true, e.entry, e.exit, rep);
  }
  db.provenance.profiler = profiler.name();
  if (report) *report = rep;
}

}  // namespace tccl::pathfinder
