// One rank of a multi-node check, launched once per rank by run_netns.sh (inside a network
// namespace, or on this machine with NCCL_HOSTID playing the node). RANK, WORLD_SIZE and
// NCCL_COMM_ID say who it is and where rank 0 hosts the bootstrap.
//   net_check collectives  every collective over several sizes, datatypes and ops, in place
//                          and out of place, checked exactly; exit 1 on any wrong element
//   net_check kill VICTIM  back-to-back large AllReduces; rank VICTIM SIGKILLs itself in the
//                          middle of one, the others must get ncclRemoteError (not hang)
//                          within TCCL_TIMEOUT and ncclCommAbort must return; prints the
//                          timings
//   net_check registered   AllReduce, Broadcast and AllGather on buffers whose lifetime TCCL
//                          knows (ncclMemAlloc, ncclCommRegister): a net plugin hop may send
//                          straight from them; each buffer is freed or deregistered and replaced
//                          between rounds; checked exactly
//   net_check init-error   ncclCommInitRank must fail with ncclInvalidUsage (a network that
//                          the environment asks for cannot be used)
#include <nccl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int rank_ = 0, nranks_ = 1;

int envInt(const char* name, int fallback) {
  const char* s = getenv(name);
  return s && *s ? atoi(s) : fallback;
}
long wrong_ = 0, checks_ = 0;

#define CHECK_NCCL(call)                                                                    \
  do {                                                                                      \
    ncclResult_t r_ = (call);                                                               \
    if (r_ != ncclSuccess) {                                                                \
      fprintf(stderr, "rank %d: %s failed: %s: %s\n", rank_, #call, ncclGetErrorString(r_), \
              ncclGetLastError(nullptr));                                                   \
      exit(2);                                                                              \
    }                                                                                       \
  } while (0)

// Small integers: sums are exact in float, so every algorithm must match bit for bit.
double valueOf(int rank, size_t i) {
  return static_cast<double>((rank * 7 + static_cast<int>(i % 61)) % 23 + 1);
}

template <typename T>
ncclDataType_t typeOf();
template <>
ncclDataType_t typeOf<float>() {
  return ncclFloat32;
}
template <>
ncclDataType_t typeOf<int32_t>() {
  return ncclInt32;
}
template <>
ncclDataType_t typeOf<double>() {
  return ncclFloat64;
}

template <typename T>
double reduced(ncclRedOp_t op, size_t i) {
  double acc = valueOf(0, i);
  for (int r = 1; r < nranks_; ++r) {
    double v = valueOf(r, i);
    acc = op == ncclSum   ? acc + v
          : op == ncclMax ? std::max(acc, v)
          : op == ncclMin ? std::min(acc, v)
                          : acc * v;
  }
  return acc;
}

template <typename T>
void expect(const char* what, const std::vector<T>& got, size_t n,
            const std::function<double(size_t)>& want) {
  ++checks_;
  long bad = 0;
  for (size_t i = 0; i < n; ++i)
    if (static_cast<double>(got[i]) != static_cast<double>(static_cast<T>(want(i)))) {
      if (bad++ < 3)
        fprintf(stderr, "rank %d: %s: element %zu is %g, expected %g\n", rank_, what, i,
                static_cast<double>(got[i]), want(i));
    }
  wrong_ += bad;
}

template <typename T>
void runCollectives(ncclComm_t comm, size_t count, bool inPlace) {
  const ncclDataType_t dt = typeOf<T>();
  const int n = nranks_;
  char what[128];
  auto fill = [&](std::vector<T>& v, size_t len, int r) {
    for (size_t i = 0; i < len; ++i) v[i] = static_cast<T>(valueOf(r, i));
  };
  for (ncclRedOp_t op : {ncclSum, ncclMax}) {
    std::vector<T> send(count + 1), recv(count + 1);
    fill(send, count, rank_);
    if (inPlace) recv = send;
    CHECK_NCCL(ncclAllReduce(inPlace ? recv.data() : send.data(), recv.data(), count, dt, op, comm,
                             nullptr));
    snprintf(what, sizeof(what), "AllReduce(%zu, op %d, %s)", count, op,
             inPlace ? "in place" : "out of place");
    expect<T>(what, recv, count, [&](size_t i) { return reduced<T>(op, i); });
    for (int root : {0, n - 1}) {
      fill(send, count, rank_);
      std::fill(recv.begin(), recv.end(), T(0));
      if (inPlace) recv = send;
      CHECK_NCCL(ncclReduce(inPlace ? recv.data() : send.data(), recv.data(), count, dt, op, root,
                            comm, nullptr));
      snprintf(what, sizeof(what), "Reduce(%zu, op %d, root %d)", count, op, root);
      if (rank_ == root) expect<T>(what, recv, count, [&](size_t i) { return reduced<T>(op, i); });
    }
  }
  for (int root : {0, n / 2, n - 1}) {
    std::vector<T> send(count + 1), recv(count + 1, T(0));
    fill(send, count, root + 100);
    if (inPlace) {
      if (rank_ == root) recv = send;
    }
    CHECK_NCCL(ncclBroadcast(inPlace ? recv.data() : send.data(), recv.data(), count, dt, root,
                             comm, nullptr));
    snprintf(what, sizeof(what), "Broadcast(%zu, root %d)", count, root);
    expect<T>(what, recv, count, [&](size_t i) { return valueOf(root + 100, i); });
  }
  {
    std::vector<T> all(count * n + 1), mine(count + 1);
    fill(mine, count, rank_);
    if (inPlace) std::copy(mine.begin(), mine.begin() + count, all.begin() + count * rank_);
    CHECK_NCCL(ncclAllGather(inPlace ? all.data() + count * rank_ : mine.data(), all.data(), count,
                             dt, comm, nullptr));
    snprintf(what, sizeof(what), "AllGather(%zu)", count);
    expect<T>(what, all, count * n,
              [&](size_t i) { return valueOf(static_cast<int>(i / count), i % count); });
  }
  {
    std::vector<T> in(count * n + 1), out(count + 1);
    for (int b = 0; b < n; ++b)
      for (size_t i = 0; i < count; ++i)
        in[b * count + i] = static_cast<T>(valueOf(rank_, b * count + i));
    T* dst = inPlace ? in.data() + count * rank_ : out.data();
    CHECK_NCCL(ncclReduceScatter(in.data(), dst, count, dt, ncclSum, comm, nullptr));
    if (inPlace) std::copy(dst, dst + count, out.begin());
    snprintf(what, sizeof(what), "ReduceScatter(%zu)", count);
    expect<T>(what, out, count, [&](size_t i) {
      double s = 0;
      for (int r = 0; r < n; ++r) s += valueOf(r, rank_ * count + i);
      return s;
    });
  }
  {  // Send/Recv around the ring, both directions at once: crosses node boundaries.
    std::vector<T> s(count + 1), r1(count + 1), r2(count + 1);
    fill(s, count, rank_);
    const int next = (rank_ + 1) % n, prev = (rank_ + n - 1) % n;
    CHECK_NCCL(ncclGroupStart());
    CHECK_NCCL(ncclSend(s.data(), count, dt, next, comm, nullptr));
    CHECK_NCCL(ncclSend(s.data(), count, dt, prev, comm, nullptr));
    CHECK_NCCL(ncclRecv(r1.data(), count, dt, prev, comm, nullptr));
    CHECK_NCCL(ncclRecv(r2.data(), count, dt, next, comm, nullptr));
    CHECK_NCCL(ncclGroupEnd());
    snprintf(what, sizeof(what), "SendRecv(%zu)", count);
    expect<T>(what, r1, count, [&](size_t i) { return valueOf(prev, i); });
    expect<T>(what, r2, count, [&](size_t i) { return valueOf(next, i); });
  }
}

int collectives(ncclComm_t comm) {
  const std::vector<size_t> sizes = {0, 1, 5, 1023, 65537, 1000003};
  auto t0 = Clock::now();
  for (size_t count : sizes)
    for (bool inPlace : {false, true}) {
      runCollectives<float>(comm, count, inPlace);
      if (count < 100000) {
        runCollectives<int32_t>(comm, count, inPlace);
        runCollectives<double>(comm, count, inPlace);
      }
    }
  printf("rank %d: %ld checks, %ld wrong elements, %.2f s\n", rank_, checks_, wrong_, since(t0));
  printf("#wrong %ld\n", wrong_);
  return wrong_ == 0 ? 0 : 1;
}

// A buffer of `count` floats from ncclMemAlloc, or a vector registered with ncclCommRegister.
class KnownBuffer {
 public:
  KnownBuffer(ncclComm_t comm, size_t count, bool memAlloc) : comm_(comm) {
    if (memAlloc) {
      CHECK_NCCL(ncclMemAlloc(reinterpret_cast<void**>(&data_), count * sizeof(float)));
    } else {
      vector_.resize(count);
      data_ = vector_.data();
      CHECK_NCCL(ncclCommRegister(comm, data_, count * sizeof(float), &handle_));
    }
  }
  KnownBuffer(const KnownBuffer&) = delete;
  KnownBuffer& operator=(const KnownBuffer&) = delete;
  ~KnownBuffer() {
    if (handle_)
      CHECK_NCCL(ncclCommDeregister(comm_, handle_));
    else
      CHECK_NCCL(ncclMemFree(data_));
  }
  float* data() const { return data_; }
  std::vector<float> copy(size_t n) const { return std::vector<float>(data_, data_ + n); }

 private:
  ncclComm_t comm_;
  std::vector<float> vector_;
  float* data_ = nullptr;
  void* handle_ = nullptr;
};

int registeredBuffers(ncclComm_t comm) {
  const int n = nranks_;
  char what[128];
  auto t0 = Clock::now();
  for (int round = 0; round < 3; ++round)
    for (bool memAlloc : {true, false})
      for (size_t count : {size_t{1000003}, size_t{65537}}) {
        KnownBuffer send(comm, count * n, memAlloc), recv(comm, count * n, memAlloc);
        for (size_t i = 0; i < count; ++i) send.data()[i] = static_cast<float>(valueOf(rank_, i));
        CHECK_NCCL(
            ncclAllReduce(send.data(), recv.data(), count, ncclFloat, ncclSum, comm, nullptr));
        snprintf(what, sizeof(what), "AllReduce(%zu, %s, round %d)", count,
                 memAlloc ? "ncclMemAlloc" : "ncclCommRegister", round);
        expect<float>(what, recv.copy(count), count,
                      [&](size_t i) { return reduced<float>(ncclSum, i); });
        CHECK_NCCL(ncclBroadcast(send.data(), recv.data(), count, ncclFloat, n - 1, comm, nullptr));
        snprintf(what, sizeof(what), "Broadcast(%zu, %s)", count,
                 memAlloc ? "ncclMemAlloc" : "ncclCommRegister");
        expect<float>(what, recv.copy(count), count, [&](size_t i) { return valueOf(n - 1, i); });
        CHECK_NCCL(ncclAllGather(send.data(), recv.data(), count, ncclFloat, comm, nullptr));
        snprintf(what, sizeof(what), "AllGather(%zu, %s)", count,
                 memAlloc ? "ncclMemAlloc" : "ncclCommRegister");
        expect<float>(what, recv.copy(count * n), count * n,
                      [&](size_t i) { return valueOf(static_cast<int>(i / count), i % count); });
      }
  printf("rank %d: %ld checks, %ld wrong elements, %.2f s\n", rank_, checks_, wrong_, since(t0));
  printf("#wrong %ld\n", wrong_);
  return wrong_ == 0 ? 0 : 1;
}

int killTest(ncclComm_t comm, int victim) {
  const size_t count = 16 << 20;  // 64 MiB of floats: each AllReduce takes a while
  std::vector<float> buf(count, 1.0f);
  if (rank_ == victim) {
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      fprintf(stderr, "rank %d: killing myself in the middle of an AllReduce\n", rank_);
      raise(SIGKILL);
    }).detach();
  }
  auto start = Clock::now();
  for (int iter = 0; iter < 1000; ++iter) {
    auto t = Clock::now();
    ncclResult_t r =
        ncclAllReduce(buf.data(), buf.data(), count, ncclFloat32, ncclSum, comm, nullptr);
    if (r == ncclSuccess) continue;
    const double callSec = since(t);
    printf("rank %d: AllReduce %d returned %s after %.2f s in the call (%.2f s since start): %s\n",
           rank_, iter, ncclGetErrorString(r), callSec, since(start), ncclGetLastError(comm));
    auto a = Clock::now();
    ncclResult_t ar = ncclCommAbort(comm);
    printf("rank %d: ncclCommAbort returned %s in %.3f s\n", rank_, ncclGetErrorString(ar),
           since(a));
    const double abortSec = since(a);
    printf("RESULT rank %d error_after %.3f abort %.3f\n", rank_, callSec, abortSec);
    // Bounded: the no-progress timeout plus one healthy AllReduce; abort at once.
    const double bound = envInt("TCCL_TIMEOUT", 300) + 10.0;
    if (r != ncclRemoteError) {
      printf("rank %d: expected ncclRemoteError for a dead peer\n", rank_);
      return 1;
    }
    if (callSec > bound || abortSec > 5.0) {
      printf("rank %d: too slow (error after %.2f s, bound %.0f s; abort %.2f s, bound 5 s)\n",
             rank_, callSec, bound, abortSec);
      return 1;
    }
    return ar == ncclSuccess ? 0 : 1;
  }
  printf("rank %d: no error after 1000 AllReduces: the victim did not die?\n", rank_);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string mode = argc > 1 ? argv[1] : "collectives";
  rank_ = envInt("RANK", 0);
  nranks_ = envInt("WORLD_SIZE", 1);
  if (!getenv("NCCL_COMM_ID")) {
    fprintf(stderr, "net_check: set NCCL_COMM_ID=<rank 0 address>:<port>, RANK and WORLD_SIZE\n");
    return 2;
  }
  ncclUniqueId id;
  CHECK_NCCL(ncclGetUniqueId(&id));
  ncclComm_t comm;
  auto t0 = Clock::now();
  if (mode == "init-error") {
    const ncclResult_t r = ncclCommInitRank(&comm, nranks_, id, rank_);
    printf("rank %d: ncclCommInitRank returned %s: %s\n", rank_, ncclGetErrorString(r),
           ncclGetLastError(nullptr));
    if (r == ncclInvalidUsage) return 0;
    if (r == ncclSuccess) ncclCommDestroy(comm);
    printf("rank %d: expected ncclInvalidUsage\n", rank_);
    return 1;
  }
  CHECK_NCCL(ncclCommInitRank(&comm, nranks_, id, rank_));
  printf("rank %d: init %.2f s\n", rank_, since(t0));
  if (mode == "kill") return killTest(comm, argc > 2 ? atoi(argv[2]) : nranks_ - 1);
  int rc = mode == "registered" ? registeredBuffers(comm) : collectives(comm);
  CHECK_NCCL(ncclCommDestroy(comm));
  return rc;
}
