// Random collectives, every result checked: forked ranks run a sequence of operations drawn
// from one seed (so every rank draws the same ones): the kind (AllReduce, Reduce,
// ReduceScatter, AllGather, Broadcast, AlltoAll, Send/Recv, Gather, Scatter), the datatype,
// the reduction op, the root, the element count (0 to 1M), in or out of place, the buffer
// offsets, and the communicator: the world or one of the splits made (and remade) along the
// way. The seed also picks the job: 2 to 6 ranks, one or two simulated nodes (net hops), the
// FIFO chunk size, and malloc or ncclMemAlloc buffers.
//
//   stress_test            TCCL_STRESS_SEED (default 1), TCCL_STRESS_OPS (default 1000, or 10000
//                          with TCCL_STRESS=1), TCCL_STRESS_SECONDS (bound, default 1200)
//
// Inputs are small integers whose sums, products and extremes are exact in every datatype,
// so each rank computes the exact expected output of every element from all ranks' inputs
// (float Avg, which rounds, within a tolerance). Bytes around each output must stay untouched.
// Prints the figures (operations by kind, time) and exits non-zero on any wrong element.
#include <nccl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../common/collective_kinds.h"
#include "../common/element_codec.h"
#include "../common/forked_ranks.h"

namespace {

using namespace tccl::test;

enum Op { kSum, kProd, kMax, kMin, kAvg, kPreMul, kNumOps };
const char* const kOpNames[] = {"sum", "prod", "max", "min", "avg", "premulsum"};
const ncclDataType_t kTypes[] = {ncclInt8,    ncclUint8,    ncclInt32,      ncclUint32,
                                 ncclInt64,   ncclUint64,   ncclFloat16,    ncclFloat32,
                                 ncclFloat64, ncclBfloat16, ncclFloat8e4m3, ncclFloat8e5m2};
constexpr int kMaxRanks = 6;
constexpr size_t kMaxCount = 1 << 20;
constexpr int kResplitEvery = 500;  // operations between new sets of split communicators
constexpr int kStopCheckEvery = 32;
constexpr unsigned char kCanary = 0xA5;

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The shared random sequence: every rank draws the same numbers in the same order.
struct Rng {
  uint64_t state;
  uint64_t next() { return mix(state++); }
  size_t below(size_t n) { return n ? next() % n : 0; }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
};

struct JobShape {
  int nranks, nodes;
  size_t chunk;
  bool memAlloc;
};

JobShape shapeOf(uint64_t seed) {
  Rng rng{mix(seed) ^ 0x5eed};
  JobShape s;
  s.nranks = 2 + static_cast<int>(rng.below(kMaxRanks - 1));
  s.nodes = s.nranks >= 4 && rng.chance(40) ? 2 : 1;
  const size_t chunks[] = {4096, 65536, 1 << 20};
  s.chunk = chunks[rng.below(3)];
  s.memAlloc = rng.chance(50);
  return s;
}

struct Comm {
  ncclComm_t comm = nullptr;
  std::vector<int> members;  // world ranks, in the order of their ranks in this communicator
  int myRank = -1;           // -1: this rank is not a member
};

struct Plan {
  Coll kind;
  int comm;
  ncclDataType_t type;
  Op op;
  size_t count;
  int root;
  bool inPlace;
  size_t sendOff, recvOff;  // in elements
  std::vector<int> sendTo;  // SendRecv: comm rank -> the comm rank it sends to
};

// SendRecv: the comm rank that sends to q.
int receivesFrom(const Plan& p, int q) {
  return static_cast<int>(std::find(p.sendTo.begin(), p.sendTo.end(), q) - p.sendTo.begin());
}

// Elements this comm rank sends for the plan, and elements it receives.
size_t sendCount(const Plan& p, int m) {
  switch (p.kind) {
    case kReduceScatter:
    case kAlltoAll:
    case kScatter:
      return p.count * m;
    default:
      return p.count;
  }
}
size_t recvCount(const Plan& p, int m) {
  switch (p.kind) {
    case kAllGather:
    case kAlltoAll:
    case kGather:
      return p.count * m;
    default:
      return p.count;
  }
}

Plan drawPlan(Rng& rng, const std::vector<Comm>& comms) {
  Plan p;
  p.comm = static_cast<int>(rng.below(comms.size()));
  const int m = static_cast<int>(comms[p.comm].members.size());
  p.kind = static_cast<Coll>(rng.below(kNumColls));
  p.type = kTypes[rng.below(std::size(kTypes))];
  p.op = static_cast<Op>(rng.below(kNumOps));
  const size_t r = rng.below(100);
  p.count = r < 5    ? 0
            : r < 35 ? 1 + rng.below(16)
            : r < 80 ? 17 + rng.below(4080)
            : r < 98 ? 4097 + rng.below(61440)
                     : 65537 + rng.below(kMaxCount / 8);
  if (p.kind == kReduceScatter || p.kind == kAllGather || p.kind == kAlltoAll ||
      p.kind == kGather || p.kind == kScatter)
    p.count = std::min(p.count, kMaxCount / m);
  p.root = static_cast<int>(rng.below(m));
  p.inPlace = p.kind <= kAlltoAll && rng.chance(30);
  p.sendOff = rng.below(5);
  p.recvOff = rng.below(5);
  // Send/Recv: every rank sends to the one `shift` places on (a rank alone sends to itself).
  const int shift = m > 1 ? 1 + static_cast<int>(rng.below(m - 1)) : 0;
  p.sendTo.resize(m);
  for (int i = 0; i < m; ++i) p.sendTo[i] = (i + shift) % m;
  return p;
}

std::string describe(const Plan& p, const std::vector<Comm>& comms, uint64_t index) {
  char buf[256];
  snprintf(buf, sizeof(buf), "op %llu: %s %s%s%s count %zu root %d %s on comm %d (%zu ranks)",
           static_cast<unsigned long long>(index), kCollNames[p.kind], tccl::dataTypeName(p.type),
           isReduction(p.kind) ? " " : "", isReduction(p.kind) ? kOpNames[p.op] : "", p.count,
           p.root, p.inPlace ? "in place" : "out of place", p.comm, comms[p.comm].members.size());
  return buf;
}

// The input of comm rank q at element i of operation `index`: what the rank really holds
// (stored in the datatype and loaded back).
double input(const Plan& p, uint64_t seed, uint64_t index, int q, size_t i) {
  const uint64_t h = mix(seed ^ mix(index * 131 + static_cast<uint64_t>(q) * 7919 + i));
  double v;
  const bool isSigned = isSignedType(p.type);
  if (!isReduction(p.kind))
    v = static_cast<double>(h % 100);
  else if (p.op == kProd)
    v = h % 3 == 0 ? 2 : 1;
  else if (p.op == kMax || p.op == kMin)
    v = isSigned ? static_cast<double>(h % 61) - 30 : static_cast<double>(h % 61);
  else
    v = isSigned ? static_cast<double>(h % 3) - 1 : static_cast<double>(h % 2);
  char tmp[8];
  storeValue(tmp, 0, p.type, v);
  return loadValue(tmp, 0, p.type);
}

// The reduction of element i over the m ranks; *exact is false for float Avg.
double reduced(const Plan& p, uint64_t seed, uint64_t index, int m, size_t i, bool* exact) {
  *exact = true;
  const bool isInt = !tccl::isFloatingType(p.type);
  double acc = p.op == kPreMul ? 0 : input(p, seed, index, 0, i);
  if (p.op == kProd && isInt) {
    uint64_t prod = 1;  // modular, like the integer types themselves
    for (int q = 0; q < m; ++q)
      prod *= static_cast<uint64_t>(static_cast<int64_t>(input(p, seed, index, q, i)));
    return wrapToType(prod, p.type);
  }
  for (int q = p.op == kPreMul ? 0 : 1; q < m; ++q) {
    const double v = input(p, seed, index, q, i);
    switch (p.op) {
      case kSum:
      case kAvg:
        acc += v;
        break;
      case kProd:
        acc *= v;
        break;
      case kMax:
        acc = std::max(acc, v);
        break;
      case kMin:
        acc = std::min(acc, v);
        break;
      case kPreMul:
        acc += 2 * v;
        break;
      default:
        break;
    }
  }
  if (p.op != kAvg) return acc;
  if (isInt) return std::trunc(acc / m);
  *exact = false;
  return acc / m;
}

double tolerance(ncclDataType_t t) {
  return t == ncclFloat8e4m3   ? 0.13
         : t == ncclFloat8e5m2 ? 0.26
         : t == ncclFloat16    ? 2e-3
         : t == ncclBfloat16   ? 1.6e-2
         : t == ncclFloat32    ? 1e-6
                               : 1e-14;
}

// What comm rank q must find at output element j (false: q has no output).
bool expected(const Plan& p, uint64_t seed, uint64_t index, int m, int q, size_t j, double* v,
              bool* exact) {
  *exact = true;
  const size_t c = p.count;
  switch (p.kind) {
    case kAllReduce:
      *v = reduced(p, seed, index, m, j, exact);
      return true;
    case kReduce:
      if (q != p.root) return false;
      *v = reduced(p, seed, index, m, j, exact);
      return true;
    case kReduceScatter:
      *v = reduced(p, seed, index, m, q * c + j, exact);
      return true;
    case kAllGather:
      *v = input(p, seed, index, static_cast<int>(j / c), j % c);
      return true;
    case kBroadcast:
      *v = input(p, seed, index, p.root, j);
      return true;
    case kAlltoAll:
      *v = input(p, seed, index, static_cast<int>(j / c), q * c + j % c);
      return true;
    case kSendRecv:
      *v = input(p, seed, index, receivesFrom(p, q), j);
      return true;
    case kGather:
      if (q != p.root) return false;
      *v = input(p, seed, index, static_cast<int>(j / c), j % c);
      return true;
    case kScatter:
      *v = input(p, seed, index, p.root, q * c + j);
      return true;
    default:
      return false;
  }
}

struct Buffers {
  char* send = nullptr;
  char* recv = nullptr;
  size_t bytes = 0;
  bool shared = false;
  bool allocate(size_t n, bool useMemAlloc) {
    shared = useMemAlloc;
    bytes = n;
    for (char** p : {&send, &recv}) {
      void* mem = nullptr;
      if (shared ? ncclMemAlloc(&mem, n) != ncclSuccess : (mem = malloc(n)) == nullptr)
        return false;
      *p = static_cast<char*>(mem);
    }
    return true;
  }
  ~Buffers() {
    for (char* p : {send, recv})
      if (p) shared ? (void)ncclMemFree(p) : free(p);
  }
};

struct RankState {
  int rank, nranks, fd;
  uint64_t seed;
  std::vector<Comm> comms;  // [0] is the world
};

ncclRedOp_t redOp(const Plan& p, ncclComm_t comm, bool* created) {
  static const ncclRedOp_t kBuiltin[] = {ncclSum, ncclProd, ncclMax, ncclMin, ncclAvg};
  *created = false;
  if (p.op != kPreMul) return kBuiltin[p.op];
  ncclRedOp_t op;
  char scalar[8];
  storeValue(scalar, 0, p.type, 2);
  if (ncclRedOpCreatePreMulSum(&op, scalar, p.type, ncclScalarHostImmediate, comm) != ncclSuccess)
    return ncclSum;
  *created = true;
  return op;
}

// Runs plan p on this rank (a member of its communicator); "" or what went wrong.
std::string runPlan(RankState& s, Buffers& buf, const Plan& p, uint64_t index) {
  const Comm& c = s.comms[p.comm];
  const int m = static_cast<int>(c.members.size()), q = c.myRank;
  const size_t es = tccl::dataTypeSize(p.type);
  const size_t nSend = sendCount(p, m), nRecv = recvCount(p, m);
  char* recv = buf.recv + p.recvOff * es;
  char* send = buf.send + p.sendOff * es;
  memset(buf.recv, kCanary, (p.recvOff + nRecv) * es + 64);
  if (p.inPlace) {  // the input sits where NCCL expects it inside the output buffer
    send = p.kind == kAllGather ? recv + q * p.count * es : recv;
    if (p.kind == kReduceScatter) {
      send = recv;
      recv = send + q * p.count * es;
    }
  }
  const bool hasInput = (p.kind != kBroadcast && p.kind != kScatter) || q == p.root;
  if (hasInput)
    for (size_t i = 0; i < nSend; ++i) storeValue(send, i, p.type, input(p, s.seed, index, q, i));
  bool created = false;
  const ncclRedOp_t op = isReduction(p.kind) ? redOp(p, c.comm, &created) : ncclSum;
  ncclResult_t res = ncclSuccess;
  switch (p.kind) {
    case kAllReduce:
      res = ncclAllReduce(send, recv, p.count, p.type, op, c.comm, nullptr);
      break;
    case kReduce:
      res = ncclReduce(send, recv, p.count, p.type, op, p.root, c.comm, nullptr);
      break;
    case kReduceScatter:
      res = ncclReduceScatter(send, recv, p.count, p.type, op, c.comm, nullptr);
      break;
    case kAllGather:
      res = ncclAllGather(send, recv, p.count, p.type, c.comm, nullptr);
      break;
    case kBroadcast:
      res = ncclBroadcast(send, recv, p.count, p.type, p.root, c.comm, nullptr);
      break;
    case kAlltoAll:
      res = ncclAlltoAll(send, recv, p.count, p.type, c.comm, nullptr);
      break;
    case kSendRecv: {
      const int from = receivesFrom(p, q);
      ncclGroupStart();
      ncclSend(send, p.count, p.type, p.sendTo[q], c.comm, nullptr);
      ncclRecv(recv, p.count, p.type, from, c.comm, nullptr);
      res = ncclGroupEnd();
      break;
    }
    case kGather:
      res = ncclGather(send, recv, p.count, p.type, p.root, c.comm, nullptr);
      break;
    case kScatter:
      res = ncclScatter(send, recv, p.count, p.type, p.root, c.comm, nullptr);
      break;
    default:
      break;
  }
  if (created) ncclRedOpDestroy(op, c.comm);
  if (res != ncclSuccess)
    return std::string("returned ") + ncclGetErrorString(res) + ": " + ncclGetLastError(c.comm);
  if ((p.kind == kReduce || p.kind == kGather) && q != p.root) return "";  // no output here
  double v = 0;
  bool exact = true;
  for (size_t j = 0; j < nRecv; ++j) {
    expected(p, s.seed, index, m, q, j, &v, &exact);
    const double got = loadValue(recv, j, p.type);
    const bool ok = exact ? got == v || (std::isnan(got) && std::isnan(v))
                          : std::fabs(got - v) <= tolerance(p.type) * std::max(1.0, std::fabs(v));
    if (!ok)
      return "element " + std::to_string(j) + " is " + std::to_string(got) + ", expected " +
             std::to_string(v);
  }
  // Nothing written past the output (in place ReduceScatter writes inside the input: skip).
  const char* end = buf.recv + (p.recvOff + nRecv) * es;
  if (!(p.inPlace && p.kind == kReduceScatter))
    for (size_t b = 0; b < 64; ++b)
      if (static_cast<unsigned char>(end[b]) != kCanary)
        return "byte " + std::to_string(b) + " after the output was overwritten";
  return "";
}

// Destroys the splits and makes new ones (a collective call of every world rank).
bool resplit(RankState& s, Rng& rng) {
  for (size_t i = 1; i < s.comms.size(); ++i)
    if (s.comms[i].comm) ncclCommDestroy(s.comms[i].comm);
  s.comms.resize(1);
  const int nSplits = 1 + static_cast<int>(rng.below(3));
  for (int k = 0; k < nSplits; ++k) {
    std::vector<int> color(s.nranks), key(s.nranks);
    for (int r = 0; r < s.nranks; ++r) {
      color[r] = rng.chance(15) ? NCCL_SPLIT_NOCOLOR : static_cast<int>(rng.below(2));
      key[r] = static_cast<int>(rng.below(4));
    }
    ncclComm_t comm = nullptr;
    if (ncclCommSplit(s.comms[0].comm, color[s.rank], key[s.rank], &comm, nullptr) != ncclSuccess) {
      report(s.fd, std::string("ncclCommSplit failed: ") + ncclGetLastError(s.comms[0].comm));
      return false;
    }
    // Every color with members becomes a communicator; ranks order by key, then world rank.
    for (int col = 0; col < 2; ++col) {
      Comm c;
      for (int r = 0; r < s.nranks; ++r)
        if (color[r] == col) c.members.push_back(r);
      if (c.members.empty()) continue;
      std::stable_sort(c.members.begin(), c.members.end(),
                       [&](int a, int b) { return key[a] < key[b]; });
      auto me = std::find(c.members.begin(), c.members.end(), s.rank);
      if (me != c.members.end()) {
        c.myRank = static_cast<int>(me - c.members.begin());
        c.comm = comm;
      }
      s.comms.push_back(std::move(c));
    }
  }
  return true;
}

int rankMain(int rank, int nranks, const ncclUniqueId& id, int fd, uint64_t seed, uint64_t ops,
             double seconds) {
  RankState s{rank, nranks, fd, seed, {}};
  Comm world;
  if (ncclCommInitRank(&world.comm, nranks, id, rank) != ncclSuccess) {
    report(fd, std::string("init failed: ") + ncclGetLastError(nullptr));
    return 1;
  }
  for (int r = 0; r < nranks; ++r) world.members.push_back(r);
  world.myRank = rank;
  s.comms.push_back(world);
  Buffers buf;
  const JobShape shape = shapeOf(seed);
  if (!buf.allocate((kMaxCount + 8) * 8 + 128, shape.memAlloc)) {
    report(fd, "cannot allocate the buffers");
    return 1;
  }
  Rng rng{mix(seed)};
  uint64_t drawn = 0, mine = 0, perKind[kNumColls] = {};
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t index = 0; index < ops; ++index) {
    if (index % kResplitEvery == 0 && !resplit(s, rng)) return 1;
    if (index % kStopCheckEvery == 0) {  // the time bound, decided by rank 0 for everybody
      int stop =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds;
      if (ncclBroadcast(&stop, &stop, 1, ncclInt, 0, world.comm, nullptr) != ncclSuccess) {
        report(fd, std::string("stop check failed: ") + ncclGetLastError(world.comm));
        return 1;
      }
      if (stop) break;
    }
    const Plan p = drawPlan(rng, s.comms);
    ++drawn;
    ++perKind[p.kind];
    if (s.comms[p.comm].myRank < 0) continue;  // not a member: the others run it
    const std::string error = runPlan(s, buf, p, index);
    if (!error.empty()) {
      report(fd, "FAIL rank " + std::to_string(rank) + " " + describe(p, s.comms, index) + ": " +
                     error);
      return 2;
    }
    ++mine;
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char line[160];
  snprintf(line, sizeof(line), "rank %d: ran and checked %llu of the %llu operations in %.1f s",
           rank, static_cast<unsigned long long>(mine), static_cast<unsigned long long>(drawn),
           took);
  std::string text = line;
  if (rank == 0) {
    text += "\nstress: " + std::to_string(drawn) + " operations:";
    for (int k = 0; k < kNumColls; ++k)
      text += std::string(k ? ", " : " ") + kCollNames[k] + " " + std::to_string(perKind[k]);
  }
  report(fd, text);
  for (size_t i = 1; i < s.comms.size(); ++i)
    if (s.comms[i].comm) ncclCommDestroy(s.comms[i].comm);
  ncclCommDestroy(world.comm);
  return 0;
}

uint64_t envNumber(const char* name, uint64_t fallback) {
  const char* v = getenv(name);
  return v && *v ? strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

int main() {
  const uint64_t seed = envNumber("TCCL_STRESS_SEED", 1);
  const bool full = envNumber("TCCL_STRESS", 0) != 0;
  const uint64_t ops = envNumber("TCCL_STRESS_OPS", full ? 10000 : 1000);
  const double seconds = static_cast<double>(envNumber("TCCL_STRESS_SECONDS", 1200));
  const JobShape shape = shapeOf(seed);
  printf(
      "stress: seed %llu: %d ranks on %d node(s), TCCL_CHUNK_SIZE=%zu, %s buffers, up to %llu "
      "operations, at most %.0f s\n",
      static_cast<unsigned long long>(seed), shape.nranks, shape.nodes, shape.chunk,
      shape.memAlloc ? "ncclMemAlloc" : "malloc", static_cast<unsigned long long>(ops), seconds);
  fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  auto out = tccl::test::runForkedRanks(
      shape.nranks,
      [&](int rank, int nranks, const ncclUniqueId& id, int fd) {
        return rankMain(rank, nranks, id, fd, seed, ops, seconds);
      },
      [&](int rank) {
        setenv("TCCL_CHUNK_SIZE", std::to_string(shape.chunk).c_str(), 1);
        if (shape.nodes > 1)
          setenv("NCCL_HOSTID", rank < shape.nranks / 2 ? "stress-node0" : "stress-node1", 1);
      },
      seconds + 300);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int rc = tccl::test::printOutcomes(out);
  printf("stress: seed %llu %s after %.1f s\n", static_cast<unsigned long long>(seed),
         rc == 0 ? "passed" : "FAILED", took);
  return rc;
}
