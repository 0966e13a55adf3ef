// Wire format of bootstrap messages. Everything read from a socket is untrusted: receivers
// check the magic, the job secret, the message type and every size before using it.
#pragma once

#include <nccl.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "base/socket.h"

namespace tccl {

inline constexpr uint32_t kBootstrapMagic = 0x7CC1B008;
inline constexpr uint64_t kMaxBootstrapPayload = 64ull << 20;
inline constexpr int kMaxRanks = 1 << 16;
inline constexpr size_t kMaxErrorText = 1024;

// 128 bits that only the job knows.
struct JobSecret {
  uint64_t word[2] = {0, 0};
  bool operator==(const JobSecret&) const = default;
};

// An address small enough for ncclUniqueId (sockaddr_storage is 128 bytes by itself).
struct PackedAddress {
  uint16_t family = 0;
  uint16_t port = 0;  // host order
  uint8_t addr[16] = {};
};
PackedAddress packAddress(const SocketAddress& a);
SocketAddress unpackAddress(const PackedAddress& p);

// What ncclUniqueId carries.
inline constexpr uint32_t kIdFlagRankZeroRoot = 1;  // NCCL_COMM_ID: rank 0 hosts the root

struct UniqueIdContent {
  uint64_t magic;
  JobSecret secret;  // admits a rank at the root: hellos with another secret are rejected
  uint32_t flags;
  PackedAddress root;
};
static_assert(sizeof(UniqueIdContent) <= NCCL_UNIQUE_ID_BYTES);

// kHello: rank -> root, payload PackedAddress (where the rank listens), secret of the id.
// kTable: root -> rank, payload TablePayload then nranks PackedAddress.
// kError: root -> rank, payload text: why the job cannot form (a rank claimed twice...).
// kP2p:   rank -> rank, secret = the job key of the table.
enum class BootstrapMsg : uint32_t { kHello = 1, kTable = 2, kP2p = 3, kError = 4 };

struct BootstrapHeader {
  uint32_t magic = kBootstrapMagic;
  BootstrapMsg type = BootstrapMsg::kP2p;
  JobSecret secret;
  int32_t rank = 0;  // sender
  int32_t nranks = 0;
  uint32_t tag = 0;
  uint32_t seq = 0;    // kP2p: per (sender, receiver) message number, from 0
  uint64_t bytes = 0;  // payload that follows
};

// The root's answer: a fresh random key that p2p messages of this job carry from now on, so
// that a stranger who could compute the hello secret (NCCL_COMM_ID alone) still cannot talk
// to the ranks.
struct TablePayload {
  JobSecret jobKey;
};

// What each receiver accepts (nullptr) or why not. The root: a hello of its job.
const char* checkHello(const BootstrapHeader& h, const JobSecret& secret);
// A rank: the root's answer to its hello (the table of nranks, or an error).
const char* checkRootReply(const BootstrapHeader& h, const JobSecret& secret, int nranks);
// A rank: a message of another rank of its job.
const char* checkP2p(const BootstrapHeader& h, const JobSecret& jobKey, int nranks);

// Reads one message (header, then payload) from bytes as they arrive. `check` sees the header
// first and returns nullptr to accept it or why it is rejected; the payload is read only after
// that, so a stranger's claimed size never allocates anything.
class MessageReader {
 public:
  using Check = std::function<const char*(const BootstrapHeader&)>;
  explicit MessageReader(Check check) : check_(std::move(check)) {}

  // How many bytes the message still needs (0 when done or rejected).
  size_t wanted() const;
  // Takes up to wanted() bytes; returns how many it used.
  size_t consume(const char* data, size_t n);
  bool started() const { return headerBytes_ > 0; }
  bool headerDone() const { return headerBytes_ == sizeof(BootstrapHeader) && !rejected_; }
  bool done() const { return headerDone() && payload_.size() == header_.bytes; }
  const char* rejected() const { return rejected_; }

  const BootstrapHeader& header() const { return header_; }
  std::vector<char>& payload() { return payload_; }

 private:
  Check check_;
  BootstrapHeader header_{};
  size_t headerBytes_ = 0;
  std::vector<char> payload_;
  const char* rejected_ = nullptr;
};

}  // namespace tccl
