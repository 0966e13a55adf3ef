// tccl-perf: an nccl-tests compatible benchmark for any library that exports the NCCL API.
//
// Same options and the same table as nccl-tests' *_perf binaries, one binary for every
// collective: -t names it (nccl-tests' -t, threads per process, is --nthreads here and must be 1).
// Ranks are one per process:
//   tccl-perf -np 4 ...           forks 4 local ranks itself
//   mpirun -np 4 tccl-perf ...    (or srun, torchrun) one rank per launched process; the unique
//                                 id comes from NCCL_COMM_ID=host:port (rank 0 hosts it), else
//                                 from MASTER_ADDR and MASTER_PORT+1
//   tccl-perf ...                 a single rank
// Buffers are host memory (aligned malloc, or ncclMemAlloc with TCCL_PERF_MEMALLOC=1) and the
// data check runs on the CPU, so this is a tool for TCCL's host backend: it never calls CUDA.
// Time is taken with steady_clock around the iterations: the host backend completes every
// operation before the call returns.
#include <nccl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Errors

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void checkNccl(ncclResult_t result, const char* call, ncclComm_t comm) {
  if (result == ncclSuccess) return;
  std::string message = std::string(call) + " failed: " + ncclGetErrorString(result);
  const char* detail = ncclGetLastError(comm);
  if (detail != nullptr && *detail != '\0') message += std::string(": ") + detail;
  throw Error(message);
}
#define NCCL_CHECK(call, comm) checkNccl((call), #call, (comm))

// Exit codes of a rank (and of the program): results wrong, or the run itself failed.
constexpr int kExitWrongResults = 1;
constexpr int kExitError = 2;

// ---------------------------------------------------------------------------------------------
// Data types: host-side conversion from and to double, enough to fill inputs and check results.

// A binary floating-point format with E exponent and M mantissa bits, round to nearest even.
// FiniteOnly is the OCP e4m3 flavour: no infinities, S.1111.111 is the only NaN.
template <int E, int M, bool FiniteOnly>
struct MiniFloat {
  static constexpr int kBias = (1 << (E - 1)) - 1;
  static constexpr uint32_t kMaxField = (1u << E) - 1;
  static constexpr uint32_t kMantMask = (1u << M) - 1;

  static uint32_t encode(double v) {
    const uint32_t sign = std::signbit(v) ? 1u << (E + M) : 0u;
    const double a = std::fabs(v);
    if (std::isnan(a)) return sign | (kMaxField << M) | kMantMask;
    if (a == 0) return sign;
    if (std::isinf(a)) return sign | (kMaxField << M) | (FiniteOnly ? kMantMask : 0u);
    int exp2 = 0;
    std::frexp(a, &exp2);
    int x = std::max(exp2 - 1, 1 - kBias);  // exponent of the leading bit, clamped to subnormals
    double q = std::nearbyint(std::ldexp(a, M - x));  // in units of the last mantissa bit
    if (q >= std::ldexp(1.0, M + 1)) q = std::nearbyint(std::ldexp(a, M - ++x));  // rounded up
    auto mant = static_cast<uint32_t>(q);
    uint32_t field = 0;
    if (mant >= (1u << M)) {
      field = static_cast<uint32_t>(x + kBias);
      mant -= 1u << M;
    }
    const bool overflow = FiniteOnly
                              ? field > kMaxField || (field == kMaxField && mant == kMantMask)
                              : field >= kMaxField;
    if (overflow) return sign | (kMaxField << M) | (FiniteOnly ? kMantMask : 0u);
    return sign | (field << M) | mant;
  }

  static double decode(uint32_t bits) {
    const uint32_t field = (bits >> M) & kMaxField, mant = bits & kMantMask;
    double v = 0;
    if (!FiniteOnly && field == kMaxField)
      v = mant ? NAN : INFINITY;
    else if (FiniteOnly && field == kMaxField && mant == kMantMask)
      v = NAN;
    else if (field == 0)
      v = std::ldexp(double(mant), 1 - kBias - M);
    else
      v = std::ldexp(double(mant | (1u << M)), int(field) - kBias - M);
    return (bits >> (E + M)) & 1 ? -v : v;
  }
};

template <class T>
void storeNative(void* p, double v) {
  const T x = static_cast<T>(v);
  std::memcpy(p, &x, sizeof x);
}
template <class T>
double loadNative(const void* p) {
  T x;
  std::memcpy(&x, p, sizeof x);
  return static_cast<double>(x);
}
template <class Format, class Bits>
void storeMini(void* p, double v) {
  const auto x = static_cast<Bits>(Format::encode(v));
  std::memcpy(p, &x, sizeof x);
}
template <class Format, class Bits>
double loadMini(const void* p) {
  Bits x;
  std::memcpy(&x, p, sizeof x);
  return Format::decode(x);
}

struct TypeInfo {
  ncclDataType_t type;
  const char* name;
  size_t size;
  bool isFloat;
  int mantissaBits;   // floats: bits after the leading one (for tolerances)
  double exactLimit;  // every integer in [0, exactLimit] is exact and sums in range stay exact
  int maxPow2;        // 2^maxPow2 is representable (products of twos stay exact)
  void (*store)(void*, double);
  double (*load)(const void*);
};

using Half = MiniFloat<5, 10, false>;
using Bfloat16 = MiniFloat<8, 7, false>;
using Fp8E4M3 = MiniFloat<4, 3, true>;
using Fp8E5M2 = MiniFloat<5, 2, false>;

// In nccl-tests' order ('-d all' runs them in this order).
const std::array<TypeInfo, 12> kTypes = {{
    {ncclInt8, "int8", 1, false, 0, 127, 6, storeNative<int8_t>, loadNative<int8_t>},
    {ncclUint8, "uint8", 1, false, 0, 255, 7, storeNative<uint8_t>, loadNative<uint8_t>},
    {ncclInt32, "int32", 4, false, 0, 2147483647.0, 30, storeNative<int32_t>, loadNative<int32_t>},
    {ncclUint32, "uint32", 4, false, 0, 4294967295.0, 31, storeNative<uint32_t>,
     loadNative<uint32_t>},
    {ncclInt64, "int64", 8, false, 0, 0x1p53, 62, storeNative<int64_t>, loadNative<int64_t>},
    {ncclUint64, "uint64", 8, false, 0, 0x1p53, 63, storeNative<uint64_t>, loadNative<uint64_t>},
    {ncclFloat16, "half", 2, true, 10, 2048, 15, storeMini<Half, uint16_t>,
     loadMini<Half, uint16_t>},
    {ncclFloat32, "float", 4, true, 23, 0x1p24, 127, storeNative<float>, loadNative<float>},
    {ncclFloat64, "double", 8, true, 52, 0x1p53, 1023, storeNative<double>, loadNative<double>},
    {ncclBfloat16, "bfloat16", 2, true, 7, 256, 127, storeMini<Bfloat16, uint16_t>,
     loadMini<Bfloat16, uint16_t>},
    {ncclFloat8e4m3, "f8e4m3", 1, true, 3, 16, 8, storeMini<Fp8E4M3, uint8_t>,
     loadMini<Fp8E4M3, uint8_t>},
    {ncclFloat8e5m2, "f8e5m2", 1, true, 2, 8, 15, storeMini<Fp8E5M2, uint8_t>,
     loadMini<Fp8E5M2, uint8_t>},
}};

// ---------------------------------------------------------------------------------------------
// Reduction operations and collectives

enum class Op { kSum, kProd, kMax, kMin, kAvg, kMulSum };

struct OpInfo {
  Op op;
  const char* name;
};
// nccl-tests' order ('-o all'); mulsum is ncclRedOpCreatePreMulSum with scalar 1 + rank % 2.
constexpr std::array<OpInfo, 6> kOps = {{{Op::kSum, "sum"},
                                         {Op::kProd, "prod"},
                                         {Op::kMax, "max"},
                                         {Op::kMin, "min"},
                                         {Op::kAvg, "avg"},
                                         {Op::kMulSum, "mulsum"}}};

enum class Coll {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kBroadcast,
  kReduce,
  kAlltoAll,
  kSendRecv,
  kGather,
  kScatter
};

struct CollInfo {
  Coll coll;
  const char* name;
  const char* alias;
  bool reduces;  // takes -o
  bool rooted;   // takes -r
};
constexpr std::array<CollInfo, 9> kColls = {{
    {Coll::kAllReduce, "all_reduce", "allreduce", true, false},
    {Coll::kAllGather, "all_gather", "allgather", false, false},
    {Coll::kReduceScatter, "reduce_scatter", "reducescatter", true, false},
    {Coll::kBroadcast, "broadcast", "bcast", false, true},
    {Coll::kReduce, "reduce", "reduce", true, true},
    {Coll::kAlltoAll, "alltoall", "all_to_all", false, false},
    {Coll::kSendRecv, "sendrecv", "send_recv", false, false},
    {Coll::kGather, "gather", "gather", false, true},
    {Coll::kScatter, "scatter", "scatter", false, true},
}};

// Element counts of one operation, as nccl-tests defines them for a message of `count` elements.
struct Counts {
  size_t send = 0, recv = 0, param = 0;     // send/recv buffer sizes, the count passed to NCCL
  size_t sendInPlace = 0, recvInPlace = 0;  // in place: rank r's offsets, times r, in recvbuff
};

Counts countsFor(Coll coll, size_t count, int n) {
  const size_t nn = static_cast<size_t>(n), part = count / nn;
  switch (coll) {
    case Coll::kAllReduce:
    case Coll::kBroadcast:
    case Coll::kReduce:
    case Coll::kSendRecv:
      return {count, count, count, 0, 0};
    case Coll::kAllGather:
    case Coll::kGather:
      return {part, part * nn, part, part, 0};
    case Coll::kReduceScatter:
    case Coll::kScatter:
      return {part * nn, part, part, 0, part};
    case Coll::kAlltoAll:
      return {part * nn, part * nn, part, 0, 0};
  }
  return {};
}

// algbw counts the bytes of the whole message; busbw scales it to what each link carries.
void bandwidth(Coll coll, size_t param, size_t typeSize, double sec, int n, double* algBw,
               double* busBw) {
  const double bytes = double(param) * double(typeSize), dn = n;
  double factor = 1;
  switch (coll) {
    case Coll::kAllReduce:
      *algBw = bytes / 1.0e9 / sec;
      factor = 2 * (dn - 1) / dn;
      break;
    case Coll::kBroadcast:
    case Coll::kReduce:
    case Coll::kSendRecv:
      *algBw = bytes / 1.0e9 / sec;
      break;
    case Coll::kAllGather:
    case Coll::kReduceScatter:
    case Coll::kAlltoAll:
    case Coll::kGather:
    case Coll::kScatter:
      *algBw = bytes * dn / 1.0e9 / sec;
      factor = (dn - 1) / dn;
      break;
  }
  *busBw = *algBw * factor;
}

// ---------------------------------------------------------------------------------------------
// Data patterns. Reductions get small integers so that every partial result is exact in the
// type (any reduction order gives the reference bit for bit); copies get pseudo-random bytes.

constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class ReducePattern {
 public:
  ReducePattern(const TypeInfo& type, Op op, int nranks, uint64_t seed)
      : type_(type), op_(op), nranks_(nranks), seed_(splitmix64(seed)) {
    const double n = nranks;
    const double terms = op == Op::kMulSum ? 2 * n : n;  // scalars are 1 or 2
    const bool accumulates = op == Op::kSum || op == Op::kAvg || op == Op::kMulSum;
    const double limit = std::min(type.exactLimit, 100.0);
    amplitude_ =
        static_cast<uint64_t>(accumulates ? std::max(1.0, std::floor(limit / terms)) : limit);
    maxTwos_ = static_cast<uint64_t>(std::min(nranks, type.maxPow2));
    const bool inRange = !accumulates || terms * double(amplitude_) <= type.exactLimit;
    const bool exactAvg = op != Op::kAvg || !type.isFloat || std::has_single_bit(unsigned(nranks));
    exact_ = inRange && exactAvg;
    tolerance_ = exact_ ? 0 : n * std::ldexp(1.0, -type.mantissaBits);
  }

  static double scalar(int rank) { return 1 + rank % 2; }

  double input(int rank, size_t index) const {
    if (op_ == Op::kProd) {  // exactly k_i ranks contribute a 2: the product is 2^k_i
      const uint64_t twos = splitmix64(seed_ + index) % (maxTwos_ + 1);
      return (index + size_t(rank)) % size_t(nranks_) < twos ? 2 : 1;
    }
    return double(splitmix64(seed_ ^ splitmix64(index * 0x100000001B3ull + uint64_t(rank))) %
                  (amplitude_ + 1));
  }

  double expected(size_t index) const {
    double acc = input(0, index);
    if (op_ == Op::kMulSum) acc *= scalar(0);
    for (int r = 1; r < nranks_; ++r) {
      const double v = input(r, index);
      switch (op_) {
        case Op::kSum:
        case Op::kAvg:
          acc += v;
          break;
        case Op::kMulSum:
          acc += v * scalar(r);
          break;
        case Op::kProd:
          acc *= v;
          break;
        case Op::kMax:
          acc = std::max(acc, v);
          break;
        case Op::kMin:
          acc = std::min(acc, v);
          break;
      }
    }
    if (op_ == Op::kAvg) acc = type_.isFloat ? acc / nranks_ : std::trunc(acc / nranks_);
    return acc;
  }

  void fill(char* p, size_t count, int rank, size_t firstIndex) const {
    for (size_t i = 0; i < count; ++i) type_.store(p + i * type_.size, input(rank, firstIndex + i));
  }

  size_t countWrong(const char* p, size_t count, size_t firstIndex) const {
    size_t wrong = 0;
    for (size_t i = 0; i < count; ++i) {
      const double got = type_.load(p + i * type_.size), want = expected(firstIndex + i);
      const bool ok = exact_ ? got == want
                             : std::fabs(got - want) <= tolerance_ * std::max(1.0, std::fabs(want));
      wrong += ok ? 0 : 1;
    }
    return wrong;
  }

 private:
  const TypeInfo& type_;
  Op op_;
  int nranks_;
  uint64_t seed_;
  uint64_t amplitude_ = 1, maxTwos_ = 0;
  bool exact_ = true;
  double tolerance_ = 0;
};

// Pseudo-random bytes identified by a stream number (who sent which block) and a seed.
class BytePattern {
 public:
  explicit BytePattern(uint64_t seed) : seed_(splitmix64(seed)) {}

  void fill(char* p, size_t bytes, uint64_t stream) const {
    const uint64_t base = splitmix64(seed_ ^ stream);
    for (size_t w = 0; w * 8 < bytes; ++w) {
      const uint64_t word = splitmix64(base + w);
      std::memcpy(p + w * 8, &word, std::min<size_t>(8, bytes - w * 8));
    }
  }

  size_t countWrong(const char* p, size_t bytes, uint64_t stream, size_t elemSize) const {
    constexpr size_t kPiece = 1 << 16;  // a multiple of every element size
    std::array<char, kPiece> expected;
    const uint64_t base = splitmix64(seed_ ^ stream);
    size_t wrong = 0;
    for (size_t off = 0; off < bytes; off += kPiece) {
      const size_t len = std::min(kPiece, bytes - off);
      for (size_t w = 0; w * 8 < len; ++w) {
        const uint64_t word = splitmix64(base + (off / 8) + w);
        std::memcpy(expected.data() + w * 8, &word, std::min<size_t>(8, len - w * 8));
      }
      for (size_t e = 0; e < len; e += elemSize)
        wrong += std::memcmp(p + off + e, expected.data() + e, elemSize) != 0 ? 1 : 0;
    }
    return wrong;
  }

 private:
  uint64_t seed_;
};

// ---------------------------------------------------------------------------------------------
// Resources

class Communicator {
 public:
  Communicator(int nranks, const ncclUniqueId& id, int rank) {
    NCCL_CHECK(ncclCommInitRank(&comm_, nranks, id, rank), nullptr);
  }
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  // Left by an exception: peers may be gone or stuck, so abort rather than destroy.
  ~Communicator() {
    if (comm_ != nullptr) ncclCommAbort(comm_);
  }
  void destroy() {
    ncclComm_t comm = std::exchange(comm_, nullptr);
    NCCL_CHECK(ncclCommDestroy(comm), nullptr);
  }
  ncclComm_t get() const { return comm_; }

 private:
  ncclComm_t comm_ = nullptr;
};

// Host buffer: ncclMemAlloc when TCCL_PERF_MEMALLOC=1, else page-aligned malloc. Zeroed.
class Buffer {
 public:
  explicit Buffer(size_t bytes) : bytes_(std::max<size_t>(bytes, 1)) {
    const char* env = std::getenv("TCCL_PERF_MEMALLOC");
    ncclMemAlloc_ = env != nullptr && std::string_view(env) == "1";
    if (ncclMemAlloc_) {
      NCCL_CHECK(ncclMemAlloc(&ptr_, bytes_), nullptr);
    } else {
      constexpr size_t kAlign = 4096;
      ptr_ = std::aligned_alloc(kAlign, (bytes_ + kAlign - 1) / kAlign * kAlign);
      if (ptr_ == nullptr) throw Error("out of memory allocating " + std::to_string(bytes_) + " B");
    }
    std::memset(ptr_, 0, bytes_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (ncclMemAlloc_)
      ncclMemFree(ptr_);
    else
      std::free(ptr_);
  }
  char* data() const { return static_cast<char*>(ptr_); }
  size_t size() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_;
  bool ncclMemAlloc_ = false;
};

// -R 1: the buffer registered with the communicator (ncclCommRegister) while it lives.
class LocalRegistration {
 public:
  LocalRegistration(ncclComm_t comm, const Buffer& buffer) : comm_(comm) {
    NCCL_CHECK(ncclCommRegister(comm, buffer.data(), buffer.size(), &handle_), comm);
  }
  LocalRegistration(const LocalRegistration&) = delete;
  LocalRegistration& operator=(const LocalRegistration&) = delete;
  ~LocalRegistration() { ncclCommDeregister(comm_, handle_); }

 private:
  ncclComm_t comm_;
  void* handle_ = nullptr;
};

// A reduction operation for one (type, op): built-in, or a PreMulSum created for this rank.
class RedOp {
 public:
  RedOp(Op op, const TypeInfo& type, int rank, ncclComm_t comm) : comm_(comm) {
    switch (op) {
      case Op::kSum:
        op_ = ncclSum;
        break;
      case Op::kProd:
        op_ = ncclProd;
        break;
      case Op::kMax:
        op_ = ncclMax;
        break;
      case Op::kMin:
        op_ = ncclMin;
        break;
      case Op::kAvg:
        op_ = ncclAvg;
        break;
      case Op::kMulSum: {
        alignas(8) char scalar[8] = {};
        type.store(scalar, ReducePattern::scalar(rank));
        NCCL_CHECK(ncclRedOpCreatePreMulSum(&op_, scalar, type.type, ncclScalarHostImmediate, comm),
                   comm);
        created_ = true;
        break;
      }
    }
  }
  RedOp(const RedOp&) = delete;
  RedOp& operator=(const RedOp&) = delete;
  ~RedOp() {
    if (created_) ncclRedOpDestroy(op_, comm_);
  }
  ncclRedOp_t get() const { return op_; }

 private:
  ncclRedOp_t op_ = ncclSum;
  ncclComm_t comm_;
  bool created_ = false;
};

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  size_t minBytes = 32 << 20, maxBytes = 32 << 20, stepBytes = 1 << 20, stepFactor = 1;
  int iters = 20, warmupIters = 5, aggIters = 1, check = 1, root = 0, blocking = 0, average = 1;
  int ngpus = 1, nthreads = 1, np = 0, localRegister = 0;
  std::string op = "sum", dtype = "float", coll = "all_reduce";

  // Resolved
  const CollInfo* collInfo = nullptr;
  std::vector<const TypeInfo*> types;
  std::vector<const OpInfo*> ops;
};

template <class Table>
auto lookup(const Table& table, const std::string& name, const char* what) {
  std::vector<decltype(&table[0])> found;
  std::string valid;
  for (const auto& entry : table) {
    if (name == "all" || name == entry.name) found.push_back(&entry);
    valid += std::string(valid.empty() ? "" : " ") + entry.name;
  }
  if (found.empty())
    throw CLI::ValidationError(what, "'" + name + "' is not one of: " + valid + " all");
  return found;
}

void resolve(Options& o) {
  std::string coll = o.coll;
  if (coll.ends_with("_perf")) coll.resize(coll.size() - 5);  // nccl-tests binary names
  for (const auto& c : kColls)
    if (coll == c.name || coll == c.alias) o.collInfo = &c;
  if (o.collInfo == nullptr) {
    std::string valid;
    for (const auto& c : kColls) valid += std::string(" ") + c.name;
    throw CLI::ValidationError("-t,--collective", "'" + o.coll + "' is not one of:" + valid);
  }
  o.types = lookup(kTypes,
                   o.dtype == "fp16" || o.dtype == "float16"   ? "half"
                   : o.dtype == "fp32" || o.dtype == "float32" ? "float"
                   : o.dtype == "fp64" || o.dtype == "float64" ? "double"
                   : o.dtype == "bf16"                         ? "bfloat16"
                                                               : o.dtype,
                   "-d,--datatype");
  o.ops = lookup(kOps, o.op, "-o,--op");
  if (o.minBytes > o.maxBytes)
    throw CLI::ValidationError("invalid sizes for 'minbytes' and 'maxbytes': " +
                               std::to_string(o.minBytes) + " > " + std::to_string(o.maxBytes));
  if (o.stepFactor <= 1 && o.stepBytes == 0 && o.minBytes < o.maxBytes)
    throw CLI::ValidationError("-i,--stepbytes", "must be > 0 when the step factor is 1");
  if (o.ngpus != 1 || o.nthreads != 1)
    throw CLI::ValidationError("-g/--nthreads", "only 1 GPU and 1 thread per process; use -np N");
  if (o.iters < 1 || o.aggIters < 1 || o.warmupIters < 0 || o.check < 0)
    throw CLI::ValidationError("-n/-m/-w/-c", "iterations must be >= 1 (warmup, check >= 0)");
  if (o.average < 0 || o.average > 3) throw CLI::ValidationError("-a,--average", "0, 1, 2 or 3");
  if (o.localRegister == 2)
    throw CLI::ValidationError("-R,--local_register",
                               "2 (symmetric registration, ncclCommWindowRegister) is not "
                               "supported by TCCL; use 0 or 1");
  if (o.localRegister < 0 || o.localRegister > 2)
    throw CLI::ValidationError("-R,--local_register", "0 or 1");
}

// ---------------------------------------------------------------------------------------------
// One rank of the benchmark

struct RankInfo {
  int32_t pid;
  int32_t device;
  char host[56];
};

class PerfRank {
 public:
  PerfRank(const Options& o, const ncclUniqueId& id, int rank, int nranks)
      : o_(o), rank_(rank), nranks_(nranks), comm_(nranks, id, rank) {}

  // Returns the exit code: 0, or kExitWrongResults.
  int run() {
    printHeader();
    sendBuf_ = std::make_unique<Buffer>(o_.maxBytes);
    recvBuf_ = std::make_unique<Buffer>(o_.maxBytes);
    if (o_.localRegister == 1) {
      sendReg_.emplace(comm_.get(), *sendBuf_);
      recvReg_.emplace(comm_.get(), *recvBuf_);
    }

    const CollInfo& coll = *o_.collInfo;
    const std::vector<const OpInfo*> noOp = {nullptr};
    int firstRoot = -1, lastRoot = -1;
    if (coll.rooted) {
      firstRoot = o_.root == -1 ? 0 : o_.root;
      lastRoot = o_.root == -1 ? nranks_ - 1 : o_.root;
    }
    for (const TypeInfo* type : o_.types)
      for (const OpInfo* op : coll.reduces ? o_.ops : noOp)
        for (int root = firstRoot; root <= lastRoot; ++root) timeTest(*type, op, root);

    const auto errors = allreduce<int64_t>(localErrors_, ncclInt64, ncclSum);
    const double avgBw = bwCount_ ? bwSum_ / bwCount_ : 0.0;
    print("# Out of bounds values : %d %s\n", int(errors), errors ? "FAILED" : "OK");
    print("# Avg bus bandwidth    : %g %s\n", avgBw, "");
    print("#\n");
    print("%s\n", ncclGetLastError(nullptr));
    sendReg_.reset();
    recvReg_.reset();
    comm_.destroy();
    return errors ? kExitWrongResults : 0;
  }

 private:
  // Rank 0 prints the report, like nccl-tests' PRINT.
  __attribute__((format(printf, 2, 3))) void print(const char* format, ...) const {
    if (rank_ != 0) return;
    va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
  }

  // Collectives on one scalar, through the library under test, stand in for nccl-tests' MPI.
  template <class T>
  T allreduce(T value, ncclDataType_t type, ncclRedOp_t op) {
    T result{};
    NCCL_CHECK(ncclAllReduce(&value, &result, 1, type, op, comm_.get(), nullptr), comm_.get());
    return result;
  }
  void barrier() { allreduce<int32_t>(1, ncclInt32, ncclSum); }

  void printHeader() {
    RankInfo mine{};
    mine.pid = int32_t(getpid());
    NCCL_CHECK(ncclCommCuDevice(comm_.get(), &mine.device), comm_.get());
    gethostname(mine.host, sizeof mine.host - 1);
    std::vector<RankInfo> all(static_cast<size_t>(nranks_));
    NCCL_CHECK(ncclAllGather(&mine, all.data(), sizeof mine, ncclUint8, comm_.get(), nullptr),
               comm_.get());

    const bool factor = o_.stepFactor > 1;
    print(
        "# nThread %d nGpus %d minBytes %zu maxBytes %zu step: %zu(%s) warmup iters: %d iters: %d "
        "agg iters: %d validation: %d graph: %d\n",
        o_.nthreads, o_.ngpus, o_.minBytes, o_.maxBytes, factor ? o_.stepFactor : o_.stepBytes,
        factor ? "factor" : "bytes", o_.warmupIters, o_.iters, o_.aggIters, o_.check, 0);
    if (o_.blocking)
      print("# Blocking Enabled: wait for completion and barrier after each collective \n");
    print("#\n");
    print("# Using devices\n");
    for (int r = 0; r < nranks_; ++r) {
      const RankInfo& info = all[size_t(r)];
      print("#  Rank %2d Group %2d Pid %6d on %10s device %2d [0x%02x] %s\n", r, 0, int(info.pid),
            info.host, int(info.device), 0, "host");
    }
    print("#\n");
    print(
        "# %10s  %12s  %8s  %6s  %6s           out-of-place                       in-place         "
        " \n",
        "", "", "", "", "");
    print("# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s %6s  %7s  %6s  %6s %6s\n", "size", "count",
          "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw",
          "#wrong");
    print("# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %5s  %7s  %6s  %6s  %5s\n", "(B)",
          "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
  }

  struct Step {
    const TypeInfo* type;
    const OpInfo* op;  // nullptr: not a reduction
    int root;
    Counts counts;
    size_t bytes(size_t elements) const { return elements * type->size; }
  };

  void timeTest(const TypeInfo& type, const OpInfo* op, int root) {
    const Coll coll = o_.collInfo->coll;
    auto stepFor = [&](size_t size) {
      return Step{&type, op, root, countsFor(coll, size / type.size, nranks_)};
    };
    std::optional<RedOp> redOp;
    if (op != nullptr) redOp.emplace(op->op, type, rank_, comm_.get());
    const ncclRedOp_t ncclOp = redOp ? redOp->get() : ncclSum;

    barrier();
    for (size_t size : {o_.maxBytes, o_.minBytes}) {  // warm up, large then small
      const Step step = stepFor(size);
      for (int i = 0; i < o_.warmupIters; ++i) startColl(step, ncclOp, false);
    }
    for (size_t size = o_.minBytes; size <= o_.maxBytes;) {
      const Step step = stepFor(size);
      char rootName[16];
      std::snprintf(rootName, sizeof rootName, "%6i", root);
      print("%12zu  %12zu  %8s  %6s  %6s",
            std::max(step.bytes(step.counts.send), step.bytes(step.counts.recv)), step.counts.param,
            type.name, op ? op->name : "none", rootName);
      benchTime(step, ncclOp, false);
      benchTime(step, ncclOp, true);
      print("\n");
      const size_t next =
          o_.stepFactor > 1 ? std::max<size_t>(size * o_.stepFactor, 1) : size + o_.stepBytes;
      if (next <= size) break;  // overflow
      size = next;
    }
  }

  // The buffers of one call; in place, nccl-tests' offsets into recvbuff.
  std::pair<char*, char*> buffers(const Step& step, bool inPlace) const {
    char* recv = recvBuf_->data();
    if (!inPlace) return {sendBuf_->data(), recv};
    return {recv + step.bytes(step.counts.sendInPlace) * size_t(rank_),
            recv + step.bytes(step.counts.recvInPlace) * size_t(rank_)};
  }

  void startColl(const Step& step, ncclRedOp_t op, bool inPlace) {
    const auto [send, recv] = buffers(step, inPlace);
    const size_t count = step.counts.param;
    const ncclDataType_t type = step.type->type;
    ncclComm_t comm = comm_.get();
    switch (o_.collInfo->coll) {
      case Coll::kAllReduce:
        NCCL_CHECK(ncclAllReduce(send, recv, count, type, op, comm, nullptr), comm);
        break;
      case Coll::kAllGather:
        NCCL_CHECK(ncclAllGather(send, recv, count, type, comm, nullptr), comm);
        break;
      case Coll::kReduceScatter:
        NCCL_CHECK(ncclReduceScatter(send, recv, count, type, op, comm, nullptr), comm);
        break;
      case Coll::kBroadcast:
        NCCL_CHECK(ncclBroadcast(send, recv, count, type, step.root, comm, nullptr), comm);
        break;
      case Coll::kReduce:
        NCCL_CHECK(ncclReduce(send, recv, count, type, op, step.root, comm, nullptr), comm);
        break;
      case Coll::kAlltoAll:
        NCCL_CHECK(ncclAlltoAll(send, recv, count, type, comm, nullptr), comm);
        break;
      case Coll::kSendRecv: {
        NCCL_CHECK(ncclGroupStart(), comm);
        NCCL_CHECK(ncclSend(send, count, type, (rank_ + 1) % nranks_, comm, nullptr), comm);
        NCCL_CHECK(ncclRecv(recv, count, type, (rank_ + nranks_ - 1) % nranks_, comm, nullptr),
                   comm);
        NCCL_CHECK(ncclGroupEnd(), comm);
        break;
      }
      case Coll::kGather:
        NCCL_CHECK(ncclGather(send, recv, count, type, step.root, comm, nullptr), comm);
        break;
      case Coll::kScatter:
        NCCL_CHECK(ncclScatter(send, recv, count, type, step.root, comm, nullptr), comm);
        break;
    }
  }

  void benchTime(const Step& step, ncclRedOp_t op, bool inPlace) {
    // nccl-tests does not check alltoall and sendrecv in place (the result is undefined).
    const Coll coll = o_.collInfo->coll;
    const bool reportErrors =
        o_.check > 0 && !(inPlace && (coll == Coll::kAlltoAll || coll == Coll::kSendRecv));
    if (reportErrors) initData(step, inPlace, 99);
    startColl(step, op, inPlace);
    barrier();

    const auto start = std::chrono::steady_clock::now();
    for (int iter = 0; iter < o_.iters; ++iter) {
      if (o_.aggIters > 1) NCCL_CHECK(ncclGroupStart(), comm_.get());
      for (int a = 0; a < o_.aggIters; ++a) startColl(step, op, inPlace);
      if (o_.aggIters > 1) NCCL_CHECK(ncclGroupEnd(), comm_.get());
      if (o_.blocking) barrier();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    const double sec = aggregateTime(elapsed.count() / (o_.iters * o_.aggIters));
    double algBw = 0, busBw = 0;
    bandwidth(coll, step.counts.param, step.type->size, sec, nranks_, &algBw, &busBw);

    int64_t wrong = 0;
    if (reportErrors) {
      for (int c = 0; c < o_.check; ++c) {
        initData(step, inPlace, ++checkSeed_);
        startColl(step, op, inPlace);
        const int64_t local = int64_t(checkData(step, inPlace));
        if (local != 0) ++localErrors_;
        wrong = allreduce<int64_t>(local, ncclInt64, ncclSum);
        if (wrong != 0) break;
      }
    }

    const double usec = sec * 1.0e6;
    char time[32];
    std::snprintf(time, sizeof time,
                  usec >= 10000.0 ? "%7.0f"
                  : usec >= 100.0 ? "%7.1f"
                                  : "%7.2f",
                  usec);
    if (reportErrors)
      print("  %7s  %6.2f  %6.2f  %5g", time, algBw, busBw, double(wrong));
    else
      print("  %7s  %6.2f  %6.2f  %5s", time, algBw, busBw, "N/A");
    bwSum_ += busBw;
    ++bwCount_;
  }

  // -a: 0 rank 0's time, 1 the mean, 2 the minimum, 3 the maximum over ranks.
  double aggregateTime(double sec) {
    switch (o_.average) {
      case 0: {
        double result = 0;
        NCCL_CHECK(ncclBroadcast(&sec, &result, 1, ncclFloat64, 0, comm_.get(), nullptr),
                   comm_.get());
        return result;
      }
      case 2:
        return allreduce<double>(sec, ncclFloat64, ncclMin);
      case 3:
        return allreduce<double>(sec, ncclFloat64, ncclMax);
      default:
        return allreduce<double>(sec, ncclFloat64, ncclSum) / nranks_;
    }
  }

  uint64_t stream(int sender, int block = 0) const {
    return uint64_t(sender) * uint64_t(nranks_) + uint64_t(block);
  }

  ReducePattern reducePattern(const Step& step, uint64_t seed) const {
    return ReducePattern(*step.type, step.op->op, nranks_, seed);
  }

  void initData(const Step& step, bool inPlace, uint64_t seed) {
    // Like nccl-tests: clear the output, then write the input (which in place lies inside it).
    std::memset(recvBuf_->data(), 0, step.bytes(std::max(step.counts.send, step.counts.recv)));
    char* send = buffers(step, inPlace).first;
    const size_t n = step.counts.param, pb = step.bytes(n);
    const BytePattern bytes(seed);
    switch (o_.collInfo->coll) {
      case Coll::kAllReduce:
      case Coll::kReduce:
        reducePattern(step, seed).fill(send, n, rank_, 0);
        break;
      case Coll::kReduceScatter:
        reducePattern(step, seed).fill(send, n * size_t(nranks_), rank_, 0);
        break;
      case Coll::kAllGather:
      case Coll::kBroadcast:
      case Coll::kSendRecv:
      case Coll::kGather:
        bytes.fill(send, pb, stream(rank_));
        break;
      case Coll::kAlltoAll:
        for (int j = 0; j < nranks_; ++j) bytes.fill(send + size_t(j) * pb, pb, stream(rank_, j));
        break;
      case Coll::kScatter:
        if (rank_ == step.root)
          for (int j = 0; j < nranks_; ++j) bytes.fill(send + size_t(j) * pb, pb, stream(j));
        break;
    }
  }

  size_t checkData(const Step& step, bool inPlace) const {
    const char* recv = buffers(step, inPlace).second;
    const size_t n = step.counts.param, pb = step.bytes(n), es = step.type->size;
    const BytePattern bytes(checkSeed_);
    size_t wrong = 0;
    switch (o_.collInfo->coll) {
      case Coll::kAllReduce:
        return reducePattern(step, checkSeed_).countWrong(recv, n, 0);
      case Coll::kReduce:
        return rank_ == step.root ? reducePattern(step, checkSeed_).countWrong(recv, n, 0) : 0;
      case Coll::kReduceScatter:
        return reducePattern(step, checkSeed_).countWrong(recv, n, n * size_t(rank_));
      case Coll::kAllGather:
        for (int q = 0; q < nranks_; ++q)
          wrong += bytes.countWrong(recv + size_t(q) * pb, pb, stream(q), es);
        return wrong;
      case Coll::kGather:
        if (rank_ != step.root) return 0;
        for (int q = 0; q < nranks_; ++q)
          wrong += bytes.countWrong(recv + size_t(q) * pb, pb, stream(q), es);
        return wrong;
      case Coll::kAlltoAll:
        for (int q = 0; q < nranks_; ++q)
          wrong += bytes.countWrong(recv + size_t(q) * pb, pb, stream(q, rank_), es);
        return wrong;
      case Coll::kBroadcast:
        return bytes.countWrong(recv, pb, stream(step.root), es);
      case Coll::kSendRecv:
        return bytes.countWrong(recv, pb, stream((rank_ + nranks_ - 1) % nranks_), es);
      case Coll::kScatter:
        return bytes.countWrong(recv, pb, stream(rank_), es);
    }
    return wrong;
  }

  const Options& o_;
  int rank_, nranks_;
  Communicator comm_;
  std::unique_ptr<Buffer> sendBuf_, recvBuf_;
  std::optional<LocalRegistration> sendReg_, recvReg_;
  uint64_t checkSeed_ = 0;
  int64_t localErrors_ = 0;
  double bwSum_ = 0;
  int bwCount_ = 0;
};

int runRank(const Options& o, const ncclUniqueId& id, int rank, int nranks) {
  if (o.collInfo->rooted && o.root >= nranks) {
    if (rank == 0) std::fprintf(stderr, "tccl-perf: root %d is not a rank of %d\n", o.root, nranks);
    return kExitError;
  }
  try {
    return PerfRank(o, id, rank, nranks).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tccl-perf: rank %d of %d: %s\n", rank, nranks, e.what());
    return kExitError;
  }
}

// ---------------------------------------------------------------------------------------------
// Launching

// -np N: the parent forks the ranks, then makes the unique id and hands it to them through
// pipes. Forking first matters: making the id starts the rendezvous root, a thread, and a child
// forked from a multi-threaded process may inherit a lock that thread held (malloc's, a
// sanitizer's) and hang on it. When a rank fails with an error or dies, the others get a grace
// period to notice (the library should report a dead peer), are then sent SIGTERM, and SIGKILL
// when even that does not end them (a stopped rank never runs its handler): a broken run never
// hangs, and the driver says which rank it had to kill.
int launchLocalRanks(const Options& o) {
  std::fflush(stdout);
  std::fflush(stderr);
  struct Child {
    pid_t pid;
    int rank;
    int idPipe;  // write end: the id goes here
  };
  std::vector<Child> running;
  auto killAll = [&running] {
    for (const Child& c : running) kill(c.pid, SIGKILL);
    for (const Child& c : running) waitpid(c.pid, nullptr, 0);
  };
  for (int r = 0; r < o.np; ++r) {
    int p[2];
    if (pipe(p) != 0) {
      std::perror("tccl-perf: pipe");
      killAll();
      return kExitError;
    }
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("tccl-perf: fork");
      killAll();
      return kExitError;
    }
    if (pid == 0) {
      close(p[1]);
      for (const Child& c : running) close(c.idPipe);
      ncclUniqueId id;
      size_t got = 0;
      while (got < sizeof(id)) {
        const ssize_t n = read(p[0], reinterpret_cast<char*>(&id) + got, sizeof(id) - got);
        if (n <= 0) _exit(kExitError);  // the parent could not make the id (it says why)
        got += static_cast<size_t>(n);
      }
      close(p[0]);
      const int code = runRank(o, id, r, o.np);
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(code);
    }
    close(p[0]);
    running.push_back({pid, r, p[1]});
  }
  ncclUniqueId id;
  const ncclResult_t made = ncclGetUniqueId(&id);
  for (const Child& c : running) {
    if (made == ncclSuccess && write(c.idPipe, &id, sizeof(id)) != sizeof(id))
      std::perror("tccl-perf: handing the unique id to a rank");
    close(c.idPipe);
  }
  if (made != ncclSuccess) {
    std::fprintf(stderr, "tccl-perf: ncclGetUniqueId failed: %s: %s\n", ncclGetErrorString(made),
                 ncclGetLastError(nullptr));
    killAll();
    return kExitError;
  }

  using Clock = std::chrono::steady_clock;
  constexpr auto kGrace = std::chrono::seconds(10);     // to notice a failed peer
  constexpr auto kKillGrace = std::chrono::seconds(5);  // from SIGTERM to SIGKILL
  std::optional<Clock::time_point> failedAt;            // when a rank first failed with an error
  std::optional<Clock::time_point> terminatedAt;
  bool killed = false;
  int result = 0;
  while (!running.empty()) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, failedAt ? WNOHANG : 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) {
      std::perror("tccl-perf: waitpid");
      return kExitError;
    }
    if (pid == 0) {  // after a failure, the others are still running
      const auto now = Clock::now();
      if (!terminatedAt && now - *failedAt > kGrace) {
        std::fprintf(stderr,
                     "tccl-perf: terminating %zu rank(s) still running %llds after a failure\n",
                     running.size(), static_cast<long long>(kGrace.count()));
        for (const Child& c : running) kill(c.pid, SIGTERM);
        terminatedAt = now;
      } else if (terminatedAt && !killed && now - *terminatedAt > kKillGrace) {
        for (const Child& c : running) {
          std::fprintf(stderr,
                       "tccl-perf: rank %d (pid %d) did not exit %llds after SIGTERM (stopped or "
                       "hung): killing it\n",
                       c.rank, int(c.pid), static_cast<long long>(kKillGrace.count()));
          kill(c.pid, SIGKILL);
        }
        killed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = std::find_if(running.begin(), running.end(),
                                 [pid](const Child& c) { return c.pid == pid; });
    if (it == running.end()) continue;
    const int rank = it->rank;
    running.erase(it);
    int code = kExitError;
    if (WIFSIGNALED(status) && !terminatedAt)
      std::fprintf(stderr, "tccl-perf: rank %d (pid %d) was killed by signal %d (%s)\n", rank,
                   int(pid), WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
      code = WEXITSTATUS(status);
    result = std::max(result, code);
    if (code == kExitError && !failedAt) failedAt = Clock::now();
  }
  return result;
}

struct LaunchEnv {
  const char* launcher;
  int rank, size;
};

// mpirun (Open MPI), PMI (MPICH, Intel MPI, srun --mpi=pmi2), Slurm, torchrun.
std::optional<LaunchEnv> detectLauncher() {
  struct Vars {
    const char *launcher, *rank, *size;
  };
  constexpr std::array<Vars, 4> kVars = {
      {{"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
       {"PMI", "PMI_RANK", "PMI_SIZE"},
       {"Slurm", "SLURM_PROCID", "SLURM_NTASKS"},
       {"torchrun", "RANK", "WORLD_SIZE"}}};
  for (const Vars& v : kVars) {
    const char* rank = std::getenv(v.rank);
    const char* size = std::getenv(v.size);
    if (rank == nullptr || size == nullptr) continue;
    char *rankEnd = nullptr, *sizeEnd = nullptr;
    const long r = std::strtol(rank, &rankEnd, 10), s = std::strtol(size, &sizeEnd, 10);
    if (*rankEnd != '\0' || *sizeEnd != '\0' || s < 1 || r < 0 || r >= s)
      throw Error(std::string("bad ") + v.rank + "=" + rank + " / " + v.size + "=" + size);
    return LaunchEnv{v.launcher, int(r), int(s)};
  }
  return std::nullopt;
}

// Every rank calls ncclGetUniqueId: with NCCL_COMM_ID set it encodes that address, where rank 0
// hosts the rendezvous. torchrun's MASTER_PORT is taken by its own store, hence MASTER_PORT + 1.
int runLaunchedRank(const Options& o, const LaunchEnv& env) {
  if (std::getenv("NCCL_COMM_ID") == nullptr) {
    const char* addr = std::getenv("MASTER_ADDR");
    const char* port = std::getenv("MASTER_PORT");
    if (addr == nullptr || port == nullptr)
      throw Error(std::string("launched by ") + env.launcher + " as rank " +
                  std::to_string(env.rank) + " of " + std::to_string(env.size) +
                  ", but neither NCCL_COMM_ID nor MASTER_ADDR/MASTER_PORT is set: export "
                  "NCCL_COMM_ID=<host of rank 0>:<free port> to every rank (or use -np N "
                  "without a launcher)");
    const std::string commId = std::string(addr) + ":" + std::to_string(std::atoi(port) + 1);
    setenv("NCCL_COMM_ID", commId.c_str(), 1);
  }
  ncclUniqueId id;
  NCCL_CHECK(ncclGetUniqueId(&id), nullptr);
  return runRank(o, id, env.rank, env.size);
}

int runSingleRank(const Options& o) {
  ncclUniqueId id;
  NCCL_CHECK(ncclGetUniqueId(&id), nullptr);
  return runRank(o, id, 0, 1);
}

void addOptions(CLI::App& app, Options& o) {
  const auto size = CLI::AsSizeValue(false);
  app.add_option("-b,--minbytes", o.minBytes, "min size in bytes (K/M/G suffixes)")
      ->transform(size)
      ->capture_default_str();
  app.add_option("-e,--maxbytes", o.maxBytes, "max size in bytes")
      ->transform(size)
      ->capture_default_str();
  app.add_option("-i,--stepbytes", o.stepBytes, "increment size")
      ->transform(size)
      ->capture_default_str();
  app.add_option("-f,--stepfactor", o.stepFactor, "increment factor")->capture_default_str();
  app.add_option("-n,--iters", o.iters, "iteration count")->capture_default_str();
  app.add_option("-w,--warmup_iters", o.warmupIters, "warmup iteration count")
      ->capture_default_str();
  app.add_option("-m,--agg_iters", o.aggIters, "operations aggregated in one group")
      ->capture_default_str();
  app.add_option("-c,--check", o.check, "check iteration count (0: no data check)")
      ->capture_default_str();
  app.add_option("-o,--op", o.op, "sum/prod/min/max/avg/mulsum/all")->capture_default_str();
  app.add_option("-d,--datatype", o.dtype,
                 "int8 uint8 int32 uint32 int64 uint64 half float double bfloat16 f8e4m3 "
                 "f8e5m2 / all")
      ->capture_default_str();
  app.add_option("-t,--collective", o.coll,
                 "all_reduce all_gather reduce_scatter broadcast reduce alltoall sendrecv gather "
                 "scatter")
      ->capture_default_str();
  app.add_option("-r,--root", o.root, "root rank (-1: every rank in turn)")->capture_default_str();
  app.add_option("-z,--blocking", o.blocking, "barrier after each collective <0/1>")
      ->capture_default_str();
  app.add_option("-R,--local_register", o.localRegister,
                 "register the buffers with ncclCommRegister <0/1>")
      ->capture_default_str();
  app.add_option("-a,--average", o.average, "reported time over ranks: 0=rank0 1=avg 2=min 3=max")
      ->capture_default_str();
  app.add_option("-g,--ngpus", o.ngpus, "GPUs per process (1 only)")->capture_default_str();
  app.add_option("--nthreads", o.nthreads, "threads per process (1 only)")->capture_default_str();
  app.add_option("--np", o.np, "fork this many local ranks (also spelled -np)")
      ->check(CLI::PositiveNumber);
}

}  // namespace

int main(int argc, char** argv) {
  setlinebuf(stdout);
  CLI::App app{"tccl-perf: nccl-tests compatible benchmark of the NCCL API", "tccl-perf"};
  Options o;
  addOptions(app, o);
  // mpirun's spelling "-np N" is not a valid CLI11 short option: accept it as "--np N".
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::string& arg : args)
    if (arg == "-np") arg = "--np";
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last to first
  try {
    app.parse(args);
    resolve(o);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    const std::optional<LaunchEnv> env = detectLauncher();
    if (o.np > 0) {
      if (env && env->size > 1)
        throw Error(std::string("-np forks local ranks itself; it cannot be combined with a ") +
                    env->launcher + " launch of " + std::to_string(env->size) + " processes");
      return launchLocalRanks(o);
    }
    if (env) return runLaunchedRank(o, *env);
    return runSingleRank(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tccl-perf: %s\n", e.what());
    return kExitError;
  }
}
