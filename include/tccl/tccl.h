/* TCCL additions to the NCCL API: version and plan inspection. */
#ifndef TCCL_TCCL_H_
#define TCCL_TCCL_H_

#include <nccl.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  tcclHopP2pWrite = 0,
  tcclHopP2pRead = 1,
  tcclHopHostBounce = 2,
  tcclHopNet = 3,
  tcclHopShm = 4
} tcclHopKind_t;

typedef struct {
  tcclHopKind_t kind;
  int numaNode; /* bounce buffer or net staging NUMA node, -1 if none */
  int nic;      /* net hops, -1 otherwise */
} tcclHop_t;

#define TCCL_MAX_PLAN_RANKS 1024

/* One channel of a communicator's plan as seen from the calling rank. */
typedef struct {
  int nRanks;
  int order[TCCL_MAX_PLAN_RANKS];      /* global ranks in ring order */
  tcclHop_t hops[TCCL_MAX_PLAN_RANKS]; /* hops[i]: order[i] -> order[(i+1) % nRanks] */
} tcclRing_t;

/* "TCCL <version>" */
const char* tcclGetVersionString(void);
/* Number of channels (rings) in the communicator's plan. */
ncclResult_t tcclCommGetChannelCount(ncclComm_t comm, int* nChannels);
/* The ring of one channel. */
ncclResult_t tcclCommGetRing(ncclComm_t comm, int channel, tcclRing_t* ring);
/* Where the plan came from: "default" (plain rings), "default:nccl-2.28" (NCCL's own plan for the
 * job, by the rules of that release), "db:<file>[<node type>]", "auto:<cache file>[<node type>]"
 * (TCCL_DB=auto) or "xml:<file>". The string lives as long as the communicator. */
ncclResult_t tcclCommGetPlanSource(ncclComm_t comm, const char** source);

#ifdef __cplusplus
}
#endif

#endif
