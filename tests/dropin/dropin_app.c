/* A plain NCCL program: compiled against the system nccl.h and linked with the system -lnccl.
 * Run it with LD_PRELOAD=libtccl.so or LD_LIBRARY_PATH=<dir with our libnccl.so.2>: it must
 * then run on host buffers and print the library's version line (NCCL_DEBUG=VERSION). */
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>

#define NRANKS 2
#define COUNT 4099

int main(void) {
  ncclComm_t comms[NRANKS];
  if (ncclCommInitAll(comms, NRANKS, NULL) != ncclSuccess) {
    fprintf(stderr, "ncclCommInitAll failed: %s\n", ncclGetLastError(NULL));
    return 2;
  }
  float* buf[NRANKS];
  for (int r = 0; r < NRANKS; ++r) {
    buf[r] = malloc(COUNT * sizeof(float));
    for (int i = 0; i < COUNT; ++i) buf[r][i] = (float)(r + 1) * (float)(i % 7);
  }
  ncclGroupStart();
  for (int r = 0; r < NRANKS; ++r) ncclAllReduce(buf[r], buf[r], COUNT, ncclFloat, ncclSum, comms[r], NULL);
  if (ncclGroupEnd() != ncclSuccess) {
    fprintf(stderr, "allreduce failed: %s\n", ncclGetLastError(NULL));
    return 3;
  }
  int wrong = 0;
  for (int r = 0; r < NRANKS; ++r)
    for (int i = 0; i < COUNT; ++i)
      if (buf[r][i] != 3.0f * (float)(i % 7)) ++wrong;
  int version = 0;
  ncclGetVersion(&version);
  for (int r = 0; r < NRANKS; ++r) {
    ncclCommDestroy(comms[r]);
    free(buf[r]);
  }
  printf("version %d, %d wrong elements: %s\n", version, wrong, wrong ? "FAILED" : "OK");
  return wrong ? 1 : 0;
}
