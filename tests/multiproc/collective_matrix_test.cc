// Every collective x datatype x op x size class, in place and out of place, with forked ranks.
// Inputs are periodic in the element index, so each rank computes the exact reference of every
// element from all ranks' inputs without holding them. Reductions use values whose partial
// results are exact in every datatype (so any reduction order gives the same bits); float Avg,
// whose scaling rounds, is checked within a tolerance. Ranks report output hashes of the
// replicated results (AllReduce, AllGather, Broadcast) and the parent checks they are identical.
#include <gtest/gtest.h>
#include <nccl.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../common/collective_kinds.h"
#include "../common/element_codec.h"
#include "../common/forked_ranks.h"

using namespace tccl::test;

namespace {

enum Op { kSum, kProd, kMax, kMin, kAvg, kPreMulHost, kPreMulDevice, kNumOps };
const char* kOpNames[] = {
    "sum", "prod", "max", "min", "avg", "premulsum(host)", "premulsum(device)"};

constexpr size_t kPeriod = 61;

// The input of `rank` at element i (for reductions: chosen so partial results stay exact).
double inputValue(Coll c, Op op, ncclDataType_t t, int rank, size_t i) {
  const int k = static_cast<int>(i % kPeriod);
  if (!isReduction(c)) return (rank * 17 + k) % 100;
  switch (op) {
    case kProd:
      return (k + rank) % 3 == 0 ? 2 : 1;
    case kMax:
    case kMin:
      return isSignedType(t) ? (k * 37 + rank * 11) % 61 - 30 : (k * 37 + rank * 11) % 61;
    default:
      return isSignedType(t) ? (k + 3 * rank) % 3 - 1 : (k + rank) % 2;
  }
}

struct Case {
  Coll coll;
  ncclDataType_t type;
  Op op;
  size_t count;  // per rank for AllGather/ReduceScatter/AlltoAll/Gather/Scatter
  bool inPlace;
  int root;
  std::string name() const {
    std::ostringstream s;
    s << kCollNames[coll] << " " << tccl::dataTypeName(type) << " "
      << (isReduction(coll) ? kOpNames[op] : "-") << " count=" << count
      << (inPlace ? " in-place" : " out-of-place") << " root=" << root;
    return s.str();
  }
};

// The reduced value at element i, in double, and whether it must match exactly.
double reference(const Case& c, int nranks, size_t i, bool* exact) {
  *exact = true;
  std::vector<double> in(nranks);
  std::vector<char> tmp(8);
  for (int r = 0; r < nranks; ++r) {
    storeValue(tmp.data(), 0, c.type, inputValue(c.coll, c.op, c.type, r, i));
    in[r] = loadValue(tmp.data(), 0, c.type);  // what the rank really holds
  }
  const bool isInt = !tccl::isFloatingType(c.type);
  double acc = in[0];
  switch (c.op) {
    case kSum:
      for (int r = 1; r < nranks; ++r) acc += in[r];
      break;
    case kProd: {
      if (isInt) {
        uint64_t p = 1;  // modular, like the integer types themselves
        for (int r = 0; r < nranks; ++r) p *= static_cast<uint64_t>(static_cast<int64_t>(in[r]));
        return wrapToType(p, c.type);
      }
      for (int r = 1; r < nranks; ++r) acc *= in[r];
      break;
    }
    case kMax:
      for (int r = 1; r < nranks; ++r) acc = std::max(acc, in[r]);
      break;
    case kMin:
      for (int r = 1; r < nranks; ++r) acc = std::min(acc, in[r]);
      break;
    case kAvg:
      for (int r = 1; r < nranks; ++r) acc += in[r];
      if (isInt) return std::trunc(acc / nranks);
      *exact = false;
      return acc / nranks;
    case kPreMulHost:
    case kPreMulDevice:
      acc = 0;
      for (int r = 0; r < nranks; ++r) acc += 2 * in[r];
      break;
    default:
      break;
  }
  return acc;
}

double tolerance(ncclDataType_t t, int nranks) {
  double eps = t == ncclFloat8e4m3   ? 0.125
               : t == ncclFloat8e5m2 ? 0.25
               : t == ncclFloat16    ? 1.0 / 1024
               : t == ncclBfloat16   ? 1.0 / 128
               : t == ncclFloat32    ? 1e-6
                                     : 1e-14;
  return eps * (nranks + 1);
}

struct RankContext {
  int rank, nranks, fd;
  ncclComm_t comm;
  int failures = 0, passes = 0;
  // Reused across cases: fresh 64 MiB buffers per case cost more in page faults than the test.
  // TCCL_MATRIX_MEMALLOC=1 takes them from ncclMemAlloc (shared: the direct algorithms).
  struct Buffer {
    char* data = nullptr;
    size_t size = 0;
    bool shared = false;
    void reserve(size_t bytes) {
      if (bytes <= size) return;
      release();
      if (shared) {
        void* p = nullptr;
        if (ncclMemAlloc(&p, bytes) == ncclSuccess) data = static_cast<char*>(p);
      } else {
        data = static_cast<char*>(malloc(bytes));
      }
      size = data ? bytes : 0;
    }
    void release() {
      if (!data) return;
      if (shared)
        ncclMemFree(data);
      else
        free(data);
      data = nullptr;
      size = 0;
    }
    ~Buffer() { release(); }
  };
  Buffer sendBuf, recvBuf;
};

void fail(RankContext& ctx, const Case& c, const std::string& what) {
  if (++ctx.failures <= 20)
    report(ctx.fd, "FAIL rank " + std::to_string(ctx.rank) + " " + c.name() + ": " + what);
}

// Checks `count` elements of `out` whose expected values repeat with kPeriod: element i is
// expected(( offset + i) % kPeriod). Exact values are compared a period at a time.
using Expected = std::function<double(size_t k, bool* exact)>;
bool checkBlock(RankContext& ctx, const Case& c, const void* out, size_t count, size_t offset,
                const Expected& expected) {
  const size_t es = tccl::dataTypeSize(c.type);
  std::vector<double> ref(kPeriod);
  std::vector<char> exactFlags(kPeriod);
  bool allExact = true;
  std::vector<char> pattern(2 * kPeriod * es);
  for (size_t k = 0; k < kPeriod; ++k) {
    bool exact = true;
    ref[k] = expected(k, &exact);
    exactFlags[k] = exact;
    allExact = allExact && exact;
    storeValue(pattern.data(), k, c.type, ref[k]);
    storeValue(pattern.data(), k + kPeriod, c.type, ref[k]);
  }
  const char* got = static_cast<const char*>(out);
  for (size_t i = 0; i < count; i += kPeriod) {
    const size_t n = std::min(kPeriod, count - i);
    const size_t k0 = (offset + i) % kPeriod;
    if (allExact && memcmp(got + i * es, pattern.data() + k0 * es, n * es) == 0) continue;
    for (size_t j = 0; j < n; ++j) {
      const size_t k = (k0 + j) % kPeriod;
      const char* g = got + (i + j) * es;
      const bool ok = exactFlags[k]
                          ? memcmp(g, pattern.data() + k * es, es) == 0
                          : std::fabs(loadValue(g, 0, c.type) - ref[k]) <=
                                tolerance(c.type, ctx.nranks) * std::max(1.0, std::fabs(ref[k]));
      if (!ok) {
        std::ostringstream s;
        s << "element " << i + j << " is " << loadValue(g, 0, c.type) << ", expected " << ref[k];
        fail(ctx, c, s.str());
        return false;
      }
    }
  }
  return true;
}

ncclRedOp_t makeOp(RankContext& ctx, const Case& c, std::vector<char>& scalar) {
  switch (c.op) {
    case kSum:
      return ncclSum;
    case kProd:
      return ncclProd;
    case kMax:
      return ncclMax;
    case kMin:
      return ncclMin;
    case kAvg:
      return ncclAvg;
    default:
      break;
  }
  ncclRedOp_t op;
  scalar.assign(8, 0);
  // The device scalar is read when the collective runs: store 5 now and 2 just before.
  storeValue(scalar.data(), 0, c.type, c.op == kPreMulHost ? 2 : 5);
  ncclRedOpCreatePreMulSum(&op, scalar.data(), c.type,
                           c.op == kPreMulHost ? ncclScalarHostImmediate : ncclScalarDevice,
                           ctx.comm);
  storeValue(scalar.data(), 0, c.type, 2);
  return op;
}

void fillInput(const Case& c, int rank, void* buf, size_t count, size_t firstIndex = 0) {
  std::vector<char> pattern(kPeriod * 8);
  for (size_t k = 0; k < kPeriod; ++k)
    storeValue(pattern.data(), k, c.type, inputValue(c.coll, c.op, c.type, rank, k));
  const size_t es = tccl::dataTypeSize(c.type);
  std::vector<char> twice(2 * kPeriod * es);
  memcpy(twice.data(), pattern.data(), kPeriod * es);
  memcpy(twice.data() + kPeriod * es, pattern.data(), kPeriod * es);
  for (size_t i = 0; i < count; i += kPeriod)
    memcpy(static_cast<char*>(buf) + i * es, twice.data() + ((firstIndex + i) % kPeriod) * es,
           std::min(kPeriod, count - i) * es);
}

void runCase(RankContext& ctx, const Case& c) {
  const int n = ctx.nranks, me = ctx.rank;
  const size_t es = tccl::dataTypeSize(c.type);
  const bool blockColl = c.coll == kReduceScatter || c.coll == kAllGather || c.coll == kAlltoAll ||
                         c.coll == kGather || c.coll == kScatter;
  const size_t total = blockColl ? c.count * n : c.count;
  const size_t sendCount =
      (c.coll == kReduceScatter || c.coll == kAlltoAll || (c.coll == kScatter)) ? total : c.count;
  const size_t recvCount =
      (c.coll == kAllGather || c.coll == kAlltoAll || c.coll == kGather) ? total : c.count;
  const size_t sendBytes = std::max<size_t>(sendCount, 1) * es,
               recvBytes = std::max<size_t>(std::max(recvCount, sendCount), 1) * es;
  ctx.sendBuf.reserve(sendBytes);
  ctx.recvBuf.reserve(recvBytes);
  char* send = ctx.sendBuf.data;
  char* recv = ctx.recvBuf.data;
  memset(send, 0x3c, sendBytes);  // nothing of an earlier case may pass for a result
  memset(recv, 0x5a, recvBytes);
  std::vector<char> scalar;
  ncclRedOp_t op = isReduction(c.coll) ? makeOp(ctx, c, scalar) : ncclSum;
  ncclResult_t res = ncclSuccess;
  auto blockPtr = [&](char* base, int r) { return base + static_cast<size_t>(r) * c.count * es; };
  switch (c.coll) {
    case kAllReduce:
    case kReduce:
    case kBroadcast: {
      if (c.coll != kBroadcast || me == c.root) fillInput(c, me, send, c.count);
      char* out = c.inPlace ? send : recv;
      if (c.coll == kAllReduce)
        res = ncclAllReduce(send, out, c.count, c.type, op, ctx.comm, nullptr);
      else if (c.coll == kReduce)
        res = ncclReduce(send, out, c.count, c.type, op, c.root, ctx.comm, nullptr);
      else
        res = ncclBroadcast(send, out, c.count, c.type, c.root, ctx.comm, nullptr);
      if (res != ncclSuccess) break;
      if (c.coll == kReduce && me != c.root) break;
      checkBlock(ctx, c, out, c.count, 0, [&](size_t k, bool* exact) {
        return c.coll == kBroadcast ? inputValue(c.coll, c.op, c.type, c.root, k)
                                    : reference(c, n, k, exact);
      });
      if (c.coll != kReduce)
        report(ctx.fd, "HASH " + c.name() + " " + std::to_string(hashBytes(out, c.count * es)));
      break;
    }
    case kReduceScatter: {
      fillInput(c, me, send, total);
      char* out = c.inPlace ? blockPtr(send, me) : recv;
      res = ncclReduceScatter(send, out, c.count, c.type, op, ctx.comm, nullptr);
      if (res != ncclSuccess) break;
      checkBlock(ctx, c, out, c.count, me * c.count,
                 [&](size_t k, bool* exact) { return reference(c, n, k, exact); });
      break;
    }
    case kAllGather: {
      char* in = c.inPlace ? blockPtr(recv, me) : send;
      fillInput(c, me, in, c.count);
      res = ncclAllGather(in, recv, c.count, c.type, ctx.comm, nullptr);
      if (res != ncclSuccess) break;
      for (int r = 0; r < n; ++r)
        checkBlock(ctx, c, blockPtr(recv, r), c.count, 0,
                   [&](size_t k, bool*) { return inputValue(c.coll, c.op, c.type, r, k); });
      report(ctx.fd, "HASH " + c.name() + " " + std::to_string(hashBytes(recv, total * es)));
      break;
    }
    case kAlltoAll: {
      // Block j of rank r's input holds pattern values offset by j, so misrouted blocks show.
      char* in = c.inPlace ? recv : send;
      for (int j = 0; j < n; ++j) fillInput(c, me, blockPtr(in, j), c.count, j);
      res = ncclAlltoAll(in, recv, c.count, c.type, ctx.comm, nullptr);
      if (res != ncclSuccess) break;
      for (int r = 0; r < n; ++r)
        checkBlock(ctx, c, blockPtr(recv, r), c.count, me,
                   [&](size_t k, bool*) { return inputValue(c.coll, c.op, c.type, r, k); });
      break;
    }
    case kGather: {
      char* in = (c.inPlace && me == c.root) ? blockPtr(recv, c.root) : send;
      fillInput(c, me, in, c.count);
      res = ncclGather(in, recv, c.count, c.type, c.root, ctx.comm, nullptr);
      if (res != ncclSuccess || me != c.root) break;
      for (int r = 0; r < n; ++r)
        checkBlock(ctx, c, blockPtr(recv, r), c.count, 0,
                   [&](size_t k, bool*) { return inputValue(c.coll, c.op, c.type, r, k); });
      break;
    }
    case kScatter: {
      if (me == c.root)
        for (int j = 0; j < n; ++j) fillInput(c, j, blockPtr(send, j), c.count);
      char* out = (c.inPlace && me == c.root) ? blockPtr(send, c.root) : recv;
      res = ncclScatter(send, out, c.count, c.type, c.root, ctx.comm, nullptr);
      if (res != ncclSuccess) break;
      checkBlock(ctx, c, out, c.count, 0,
                 [&](size_t k, bool*) { return inputValue(c.coll, c.op, c.type, me, k); });
      break;
    }
    case kSendRecv: {
      // A ring shift: everybody sends to the next rank and receives from the previous one.
      fillInput(c, me, send, c.count);
      ncclGroupStart();
      ncclSend(send, c.count, c.type, (me + 1) % n, ctx.comm, nullptr);
      ncclRecv(recv, c.count, c.type, (me - 1 + n) % n, ctx.comm, nullptr);
      res = ncclGroupEnd();
      if (res != ncclSuccess) break;
      checkBlock(ctx, c, recv, c.count, 0, [&](size_t k, bool*) {
        return inputValue(c.coll, c.op, c.type, (me - 1 + n) % n, k);
      });
      break;
    }
    default:
      break;
  }
  if (res != ncclSuccess)
    fail(ctx, c,
         std::string("returned ") + ncclGetErrorString(res) + ": " + ncclGetLastError(ctx.comm));
  if (op >= ncclNumOps) ncclRedOpDestroy(op, ctx.comm);
}

std::vector<Case> buildCases(int nranks, bool large) {
  std::vector<Case> cases;
  const std::vector<size_t> smallCounts = {0, 1, 7, 1237};
  for (int coll = 0; coll < kNumColls; ++coll) {
    for (int t = 0; t < ncclNumTypes; ++t) {
      const size_t es = tccl::dataTypeSize(static_cast<ncclDataType_t>(t));
      const bool blockColl = coll == kReduceScatter || coll == kAllGather || coll == kAlltoAll ||
                             coll == kGather || coll == kScatter;
      std::vector<size_t> counts = smallCounts;
      if (large) counts = {(64u << 20) / es / (blockColl ? nranks : 1)};
      const int nOps = isReduction(static_cast<Coll>(coll)) ? kNumOps : 1;
      for (int op = 0; op < nOps; ++op)
        for (size_t count : counts)
          for (bool inPlace : {false, true}) {
            if (coll == kSendRecv && inPlace) continue;
            int root = nranks - 1 - static_cast<int>(count % nranks);
            cases.push_back(Case{static_cast<Coll>(coll), static_cast<ncclDataType_t>(t),
                                 static_cast<Op>(op), count, inPlace, root});
          }
    }
  }
  return cases;
}

enum class Buffers { kSmall, kLarge };

void runMatrix(int nranks, Buffers buffers) {
  const bool large = buffers == Buffers::kLarge;
  setenv("NCCL_SOCKET_IFNAME", "lo", 0);  // the ranks meet over loopback unless told otherwise
  auto out = runForkedRanks(
      nranks,
      [large](int rank, int n, const ncclUniqueId& id, int fd) {
        RankContext ctx{rank, n, fd, nullptr, 0, 0, {}, {}};
        const char* memalloc = getenv("TCCL_MATRIX_MEMALLOC");
        ctx.sendBuf.shared = ctx.recvBuf.shared = memalloc && *memalloc == '1';
        // Every rank a node of its own: all hops go through the socket transport.
        const std::string net = getenv("TCCL_MATRIX_NET") ? getenv("TCCL_MATRIX_NET") : "";
        if (net == "1" || net == "ring")
          setenv("NCCL_HOSTID", ("matrix-node" + std::to_string(rank)).c_str(), 1);
        if (net == "ring") setenv("NCCL_ALGO", "ring", 1);
        if (ncclCommInitRank(&ctx.comm, n, id, rank) != ncclSuccess) {
          report(fd, std::string("FAIL init: ") + ncclGetLastError(nullptr));
          return 1;
        }
        const char* filter =
            getenv("TCCL_MATRIX_FILTER");  // substring of case names, for debugging
        for (const Case& c : buildCases(n, large)) {
          if (filter && c.name().find(filter) == std::string::npos) continue;
          int before = ctx.failures;
          runCase(ctx, c);
          if (ctx.failures == before) ++ctx.passes;
        }
        ncclCommDestroy(ctx.comm);
        report(fd, "DONE " + std::to_string(ctx.passes) + " passed, " +
                       std::to_string(ctx.failures) + " failed");
        return ctx.failures ? 1 : 0;
      },
      {}, large ? 1500 : 600);
  ASSERT_EQ(out.size(), static_cast<size_t>(nranks));
  std::map<std::string, std::string> hashes;
  for (int r = 0; r < nranks; ++r) {
    EXPECT_EQ(out[r].exitCode, 0) << "rank " << r << ":\n" << out[r].report.substr(0, 4000);
    std::istringstream lines(out[r].report);
    std::string line;
    bool done = false;
    while (std::getline(lines, line)) {
      if (line.rfind("DONE", 0) == 0) {
        done = true;
        if (r == 0) printf("[rank 0] %s\n", line.c_str());
      }
      if (line.rfind("HASH ", 0) != 0) continue;
      const size_t sp = line.rfind(' ');
      const std::string key = line.substr(5, sp - 5), value = line.substr(sp + 1);
      auto [it, inserted] = hashes.try_emplace(key, value);
      EXPECT_TRUE(inserted || it->second == value) << "results differ across ranks: " << key;
    }
    EXPECT_TRUE(done) << "rank " << r << " did not finish";
  }
}

}  // namespace

class SmallSizes : public ::testing::TestWithParam<int> {};
TEST_P(SmallSizes, EveryCollectiveDatatypeOp) {
  runMatrix(GetParam(), Buffers::kSmall);
}
INSTANTIATE_TEST_SUITE_P(Ranks, SmallSizes, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8),
                         [](const auto& info) { return "np" + std::to_string(info.param); });

// 64 MiB buffers: every collective, datatype and op on 3 ranks by default; set
// TCCL_TEST_FULL=1 to run 2, 3 and 4 ranks.
class LargeSizes : public ::testing::TestWithParam<int> {};
TEST_P(LargeSizes, EveryCollectiveDatatypeOp) {
  const char* full = getenv("TCCL_TEST_FULL");
  if (GetParam() != 3 && !(full && *full == '1'))
    GTEST_SKIP() << "set TCCL_TEST_FULL=1 for 64 MiB with " << GetParam() << " ranks";
  runMatrix(GetParam(), Buffers::kLarge);
}
INSTANTIATE_TEST_SUITE_P(Ranks, LargeSizes, ::testing::Values(2, 3, 4),
                         [](const auto& info) { return "np" + std::to_string(info.param); });
