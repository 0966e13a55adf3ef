#include "search/database_builder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <thread>

#include "search/exhaustive.h"
#include "search/symmetry.h"

#ifndef TCCL_VERSION_STRING
#define TCCL_VERSION_STRING "0"
#endif

namespace tccl::pathfinder {
namespace {

struct Problem {
  std::vector<int> gpus;
  bool chain = false;
  Hop entry, exit;  // chains only
  bool ring() const { return !chain; }
  Relabelling labels;
};

Hop relabelHop(Hop h, const std::vector<int>& numaMap, const std::vector<int>& nicMap) {
  if (h.numa >= 0) h.numa = numaMap[h.numa];
  if (h.nic >= 0) h.nic = nicMap[h.nic];
  return h;
}

PathResult relabel(const PathResult& r, const std::vector<int>& gpuMap,
                   const std::vector<int>& numaMap, const std::vector<int>& nicMap) {
  PathResult out = r;
  for (db::Channel& ch : out.channels) {
    for (int& g : ch.order) g = gpuMap[g];
    for (Hop& h : ch.hops) h = relabelHop(h, numaMap, nicMap);
  }
  out.entry = relabelHop(r.entry, numaMap, nicMap);
  out.exit = relabelHop(r.exit, numaMap, nicMap);
  return out;
}

// Rings are stored starting at their lowest GPU.
void rotateToLowest(db::Channel& ch) {
  auto lowest = std::min_element(ch.order.begin(), ch.order.end());
  const auto shift = lowest - ch.order.begin();
  std::rotate(ch.order.begin(), lowest, ch.order.end());
  std::rotate(ch.hops.begin(), ch.hops.begin() + shift, ch.hops.end());
}

std::string isoDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Rings for every subset of >= 2 GPUs; chains for every subset and (entry hop, exit hop).
std::vector<Problem> listProblems(const topo::Topology& topo, const Candidates& candidates) {
  const int n = static_cast<int>(topo.gpus.size());
  std::vector<Problem> out;
  for (uint32_t mask = 1; mask < (1u << n); ++mask) {
    std::vector<int> gpus;
    for (int g = 0; g < n; ++g)
      if (mask & (1u << g)) gpus.push_back(g);
    if (gpus.size() >= 2) out.push_back({gpus, false, {}, {}, {}});
    for (const Hop& entry : candidates.entry)
      for (const Hop& exit : candidates.exit) out.push_back({gpus, true, entry, exit, {}});
  }
  return out;
}

}  // namespace

void linkPeerSides(Hop& entry, Hop& exit) {
  entry.peerGpuDirect = exit.gpuDirect;
  exit.peerGpuDirect = entry.gpuDirect;
}

db::Database buildDatabase(const topo::Topology& topo, Profiler& profiler,
                           const BuildOptions& options, BuildReport* report) {
  const auto start = std::chrono::steady_clock::now();
  BuildReport rep;
  const Candidates searchCandidates = enumerateCandidates(topo, profiler.distinguishesEngines());
  const Candidates allCandidates = enumerateCandidates(topo, true);
  std::vector<Problem> problems = listProblems(topo, searchCandidates);

  // One representative per symmetry class.
  std::map<std::string, size_t> classOf;
  std::vector<size_t> representatives;
  std::vector<size_t> problemClass(problems.size());
  for (size_t i = 0; i < problems.size(); ++i) {
    Problem& p = problems[i];
    (p.ring() ? rep.intraProblems : rep.interProblems)++;
    p.labels = p.chain ? canonicalRelabelling(topo, p.gpus, &p.entry, &p.exit)
                       : canonicalRelabelling(topo, p.gpus, nullptr, nullptr);
    auto [it, inserted] = classOf.try_emplace(p.labels.key, representatives.size());
    if (inserted) {
      representatives.push_back(i);
      (p.ring() ? rep.intraSolved : rep.interSolved)++;
    }
    problemClass[i] = it->second;
  }

  // Solve the representatives; results are kept in canonical labels.
  std::vector<PathResult> solved(representatives.size());
  std::atomic<size_t> next{0}, done{0};
  auto worker = [&] {
    PathSearch search(profiler, topo, searchCandidates, options.search);
    for (size_t c = next++; c < representatives.size(); c = next++) {
      const Problem& p = problems[representatives[c]];
      PathResult r;
      if (options.exhaustive)
        r = p.ring() ? exhaustiveRing(profiler, allCandidates, p.gpus)
                     : exhaustiveChain(profiler, allCandidates, p.gpus, p.entry, p.exit);
      else
        r = p.ring() ? search.ring(p.gpus) : search.chain(p.gpus, p.entry, p.exit);
      solved[c] = relabel(r, p.labels.gpuPos, p.labels.numaPos, p.labels.nicPos);
      ++done;
    }
  };
  const int jobs = profiler.threadSafe() ? std::max(1, options.jobs) : 1;
  {
    std::vector<std::jthread> pool;
    for (int j = 1; j < jobs; ++j) pool.emplace_back(worker);
    if (options.progress) {
      std::jthread progress([&](std::stop_token stop) {
        while (!stop.stop_requested()) {
          double s =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          std::fprintf(stderr,
                       "\rtccl-pathfinder: %zu/%zu problems solved (%zu rings, %zu chains "
                       "after symmetry), %.1f s ",
                       done.load(), representatives.size(), rep.intraSolved, rep.interSolved, s);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      });
      worker();
      for (std::jthread& t : pool) t.join();
      progress.request_stop();
      progress.join();
      std::fprintf(stderr, "\rtccl-pathfinder: %zu/%zu problems solved%40s\n", done.load(),
                   representatives.size(), "");
    } else {
      worker();
    }
  }

  db::Database database;
  database.provenance = {"tccl-pathfinder", TCCL_VERSION_STRING, profiler.name(), isoDate(),
                         options.topologyName};
  db::NodeType node;
  node.name = topo.name;
  node.signature = topo::signatureOf(topo);
  for (size_t c = 0; c < solved.size(); ++c) {
    if (!solved[c].proven) ++rep.unproven;
    rep.nodesScored += solved[c].nodes;
  }
  for (size_t i = 0; i < problems.size(); ++i) {
    const Problem& p = problems[i];
    PathResult r =
        relabel(solved[problemClass[i]], p.labels.gpuAt, p.labels.numaAt, p.labels.nicAt);
    if (p.ring()) {
      for (db::Channel& ch : r.channels) rotateToLowest(ch);
      node.intra.push_back({p.gpus, r.channels, r.gbps, r.proven});
    } else {
      linkPeerSides(r.entry, r.exit);
      node.inter.push_back({p.gpus, r.entry, r.exit, r.channels, r.gbps, r.proven});
    }
  }
  database.nodes.push_back(std::move(node));
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report) *report = rep;
  return database;
}

}  // namespace tccl::pathfinder
