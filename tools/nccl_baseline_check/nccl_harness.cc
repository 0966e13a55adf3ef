// Built against NCCL's own sources by check.sh (never part of the TCCL build): loads an NCCL
// system XML, runs NCCL's ncclTopoComputePaths, ncclTopoCheckP2p, ncclTopoCheckGdr and the
// ring search (ncclTopoCompute), and prints them in the format of tccl-nccl-replay.
// INTER=1 makes the system span several nodes (NCCL 2.23+ keeps that flag in the system).
#include <cstdio>
#include <cstdlib>

#include "core.h"
#include "graph.h"
#include "topo.h"
#include "xml.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SYSTEM.xml\n", argv[0]);
    return 2;
  }
  setenv("NCCL_IGNORE_DISABLED_P2P", "2", 0);  // no NVML here
  struct ncclXml* xml;
#if NCCL_VERSION_CODE >= 22300
  NCCLCHECK(xmlAlloc(&xml, NCCL_TOPO_XML_MAX_NODES));
#else
  NCCLCHECK(ncclCalloc(&xml, 1));
#endif
  NCCLCHECK(ncclTopoGetXmlFromFile(argv[1], xml, 1));
  struct ncclTopoSystem* system;
#if NCCL_VERSION_CODE >= 22300
  NCCLCHECK(ncclTopoGetSystemFromXml(xml, &system, 0x1234));
  system->inter = getenv("INTER") ? atoi(getenv("INTER")) : system->nodes[NET].count > 0;
#else
  NCCLCHECK(ncclTopoGetSystemFromXml(xml, &system));
#endif
  NCCLCHECK(ncclTopoComputePaths(system, NULL));
  NCCLCHECK(ncclTopoSearchInit(system));
  const int ngpu = system->nodes[GPU].count;
  for (int a = 0; a < ngpu; ++a) {
    printf("p2p");
    for (int b = 0; b < ngpu; ++b) {
      int p2p = 0;
      struct ncclTopoNode* ga = system->nodes[GPU].nodes + a;
      struct ncclTopoNode* gb = system->nodes[GPU].nodes + b;
#if NCCL_VERSION_CODE >= 22300
      if (a != b)
        ncclTopoCheckP2p(NULL, system, ga->gpu.rank, gb->gpu.rank, &p2p, NULL, NULL, NULL);
#else
      if (a != b) ncclTopoCheckP2p(system, ga->id, gb->id, &p2p, NULL, NULL);
#endif
      printf(" %d/%s", p2p, topoPathTypeStr[ga->paths[GPU][b].type]);
    }
    printf("\n");
  }
  for (int n = 0; n < system->nodes[NET].count; ++n)
    for (int g = 0; g < ngpu; ++g) {
      struct ncclTopoNode* gpu = system->nodes[GPU].nodes + g;
      int64_t net = system->nodes[NET].nodes[n].id;
#if NCCL_VERSION_CODE >= 22300
      enum ncclTopoGdrMode r, w;
      ncclTopoCheckGdr(system, gpu->gpu.rank, net, 1, &r);
      ncclTopoCheckGdr(system, gpu->gpu.rank, net, 0, &w);
#else
      int r, w;
      ncclTopoCheckGdr(system, gpu->id, net, 1, &r);
      ncclTopoCheckGdr(system, gpu->id, net, 0, &w);
#endif
      printf("gdr net%d gpu%d send(read)=%d recv(write)=%d\n", n, g, r != 0, w != 0);
    }
  struct ncclTopoGraph graph;
  memset(&graph, 0, sizeof graph);
  graph.pattern = NCCL_TOPO_PATTERN_RING;
  graph.minChannels = 1;
  graph.maxChannels = MAXCHANNELS / 2;
  NCCLCHECK(ncclTopoCompute(system, &graph));
  printf("ring: nChannels %d bwIntra %g bwInter %g typeIntra %s typeInter %s sameChannels %d\n",
         graph.nChannels, graph.bwIntra, graph.bwInter, topoPathTypeStr[graph.typeIntra],
         topoPathTypeStr[graph.typeInter], graph.sameChannels);
  const bool inter = getenv("INTER") ? atoi(getenv("INTER")) : system->nodes[NET].count > 0;
  for (int c = 0; c < graph.nChannels; ++c) {
    printf("  ch%d:", c);
    if (inter) printf(" net%ld ->", (long)graph.inter[2 * c]);
    for (int g = 0; g < ngpu; ++g) printf(" %d", graph.intra[c * ngpu + g]);
    if (inter) printf(" -> net%ld", (long)graph.inter[2 * c + 1]);
    printf("\n");
  }
  // NCCL keeps min(ring, tree) channels (init.cc): the tree search, asked for as many.
  struct ncclTopoGraph tree;
  memset(&tree, 0, sizeof tree);
  tree.id = 1;
  tree.pattern = NCCL_TOPO_PATTERN_BALANCED_TREE;
  tree.minChannels = tree.maxChannels = graph.nChannels;
  NCCLCHECK(ncclTopoCompute(system, &tree));
  printf("tree: nChannels %d\n", tree.nChannels);
  return 0;
}
