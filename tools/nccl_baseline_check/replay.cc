// tccl-nccl-replay: prints the NCCL baseline's view of a node (src/plan/nccl_system.h,
// nccl_ring_search.h) in the format of nccl_harness.cc, which runs NCCL's own code, so that
// check.sh can compare the two line by line. Usage:
//   tccl-nccl-replay TOPOLOGY.json all|GPU-DIGITS nic|no 18|28   (NCCL_* knobs from the
//   environment)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "plan/nccl_baseline.h"
#include "plan/nccl_ring_search.h"
#include "topo/topology.h"

using namespace tccl;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s TOPOLOGY.json all|GPU-DIGITS nic|no 18|28\n", argv[0]);
    return 2;
  }
  topo::LoadedTopology t = topo::loadTopologyFile(argv[1]);
  if (!t.topology) {
    std::fprintf(stderr, "%s\n", t.error.c_str());
    return 2;
  }
  std::vector<int> gpus;
  const std::string subset = argv[2];
  if (subset == "all")
    for (size_t g = 0; g < t.topology->gpus.size(); ++g) gpus.push_back(static_cast<int>(g));
  else
    for (char c : subset) gpus.push_back(c - '0');
  const bool net = std::string(argv[3]) == "nic";
  const nccl::Release release =
      std::string(argv[4]) == "18" ? nccl::Release::k2_18 : nccl::Release::k2_28;
  nccl::Knobs knobs;
  std::string error;
  if (!nccl::readKnobs([](const char* n) { return std::getenv(n); }, release, &knobs, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  nccl::System sys(*t.topology, gpus, net, release, knobs);
  const int ng = sys.gpuCount();
  auto type = [](nccl::PathType p) { return std::string(nccl::pathTypeName(p)); };
  for (int a = 0; a < ng; ++a) {
    std::printf("p2p");
    for (int b = 0; b < ng; ++b)
      std::printf(" %d/%s", a != b && sys.p2p(a, b),
                  type(a == b ? nccl::PathType::kLoc : sys.gpuToGpu(a, b).type).c_str());
    std::printf("\n");
  }
  for (int n = 0; n < sys.netCount(); ++n)
    for (int g = 0; g < ng; ++g)
      std::printf("gdr net%d gpu%d send(read)=%d recv(write)=%d\n", n, g, sys.gdr(g, n, true),
                  sys.gdr(g, n, false));
  const nccl::RingGraph r = nccl::searchRings(sys);
  std::printf(
      "ring: nChannels %d bwIntra %g bwInter %g typeIntra %s typeInter %s sameChannels %d\n",
      r.nChannels, r.bwIntra, r.bwInter, type(r.typeIntra).c_str(), type(r.typeInter).c_str(),
      r.sameChannels);
  for (int c = 0; c < r.nChannels; ++c) {
    std::printf("  ch%d:", c);
    if (net) std::printf(" net%d ->", r.netIn[c]);
    for (int g : r.rings[c]) std::printf(" %d", sys.node(sys.gpuNode(g)).rank);
    if (net) std::printf(" -> net%d", r.netOut[c]);
    std::printf("\n");
  }
  return 0;
}
