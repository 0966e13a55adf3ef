/* Includes <tccl/tccl.h> (and through it nccl.h) from the installed package, runs one
 * AllReduce on a one-rank communicator and asks TCCL where its plan came from. */
#include <stdio.h>
#include <tccl/tccl.h>

int main(void) {
  int version = 0;
  ncclComm_t comm;
  float x[4] = {1, 2, 3, 4};
  const char* source = NULL;
  if (ncclGetVersion(&version) != ncclSuccess) return 1;
  if (ncclCommInitAll(&comm, 1, NULL) != ncclSuccess) {
    fprintf(stderr, "init: %s\n", ncclGetLastError(NULL));
    return 2;
  }
  if (ncclAllReduce(x, x, 4, ncclFloat, ncclSum, comm, NULL) != ncclSuccess || x[3] != 4) return 3;
  if (tcclCommGetPlanSource(comm, &source) != ncclSuccess) return 4;
  printf("%s, NCCL API %d, plan %s: OK\n", tcclGetVersionString(), version, source);
  ncclCommDestroy(comm);
  return 0;
}
