// Minimal NCCL program: N ranks as forked processes, one AllReduce (float sum) of host buffers.
//
//   allreduce_minimal [NRANKS]      (default 2; prints PASS or FAIL, exit code 0 or 1)
//
// The parent forks the ranks first, then creates the unique id and hands it to them through a
// pipe, then only waits. (Creating the id starts a thread, and a process should not fork while
// other threads run: a child could inherit a lock one of them held.)
// With TCCL's host backend the buffers are plain host memory and ncclAllReduce completes before
// it returns; with a GPU backend they would have to be device memory and the stream synchronized.
#include <nccl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#define NCCLCHECK(cmd)                                                                          \
  do {                                                                                          \
    ncclResult_t res = (cmd);                                                                   \
    if (res != ncclSuccess) {                                                                   \
      std::fprintf(stderr, "rank %d: %s failed: %s: %s\n", rank, #cmd, ncclGetErrorString(res), \
                   ncclGetLastError(nullptr));                                                  \
      return 1;                                                                                 \
    }                                                                                           \
  } while (0)

using CommPtr = std::unique_ptr<ncclComm, decltype(&ncclCommDestroy)>;

static int runRank(const ncclUniqueId& id, int rank, int nranks) {
  const size_t count = 1 << 20;
  std::vector<float> sendbuff(count), recvbuff(count, -1.0f);
  for (size_t i = 0; i < count; ++i) sendbuff[i] = float(rank + i % 7);

  ncclComm_t raw = nullptr;
  NCCLCHECK(ncclCommInitRank(&raw, nranks, id, rank));
  CommPtr comm(raw, &ncclCommDestroy);
  NCCLCHECK(ncclAllReduce(sendbuff.data(), recvbuff.data(), count, ncclFloat, ncclSum, comm.get(),
                          /*stream=*/nullptr));
  NCCLCHECK(ncclCommDestroy(comm.release()));

  // sum over r of (r + i % 7) = n(n-1)/2 + n * (i % 7): small integers, exact in float.
  size_t wrong = 0;
  for (size_t i = 0; i < count; ++i) {
    const float expected = float(nranks * (nranks - 1) / 2 + nranks * int(i % 7));
    if (recvbuff[i] != expected && wrong++ == 0)
      std::fprintf(stderr, "rank %d: element %zu is %g, expected %g\n", rank, i, recvbuff[i],
                   expected);
  }
  if (wrong) std::fprintf(stderr, "rank %d: %zu of %zu elements wrong\n", rank, wrong, count);
  return wrong ? 1 : 0;
}

int main(int argc, char** argv) {
  const int nranks = argc > 1 ? std::atoi(argv[1]) : 2;
  if (nranks < 1) {
    std::fprintf(stderr, "usage: %s [NRANKS>=1]\n", argv[0]);
    return 1;
  }
  int idPipe[2];
  if (pipe(idPipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  std::fflush(stdout);
  std::vector<pid_t> children;
  for (int rank = 0; rank < nranks; ++rank) {
    const pid_t pid = fork();
    if (pid < 0) {  // the ranks already started would wait forever for the missing ones
      std::perror("fork");
      for (pid_t child : children) kill(child, SIGKILL);
      for (pid_t child : children) waitpid(child, nullptr, 0);
      std::printf("FAIL\n");
      return 1;
    }
    if (pid == 0) {
      close(idPipe[1]);
      ncclUniqueId id;
      if (read(idPipe[0], &id, sizeof(id)) != sizeof(id)) _exit(1);  // the parent failed
      _exit(runRank(id, rank, nranks));
    }
    children.push_back(pid);
  }
  close(idPipe[0]);
  ncclUniqueId id;
  const ncclResult_t made = ncclGetUniqueId(&id);
  if (made != ncclSuccess)
    std::fprintf(stderr, "ncclGetUniqueId failed: %s\n", ncclGetLastError(nullptr));
  // One id per rank; a pipe write this small is atomic, so the ranks cannot get torn ids.
  for (size_t i = 0; made == ncclSuccess && i < children.size(); ++i)
    if (write(idPipe[1], &id, sizeof(id)) != sizeof(id)) std::perror("write");
  close(idPipe[1]);

  int failed = 0;
  for (pid_t pid : children) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  std::printf("%s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
