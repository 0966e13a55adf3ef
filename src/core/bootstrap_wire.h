// Wire format of bootstrap messages. Everything read from a socket is untrusted: receivers
// check the magic, the job nonce, the message type and every size before using it.
#pragma once

#include <nccl.h>

#include <cstdint>

#include "core/socket.h"

namespace tccl {

inline constexpr uint32_t kBootstrapMagic = 0x7CC1B007;
inline constexpr uint64_t kMaxBootstrapPayload = 64ull << 20;
inline constexpr int kMaxRanks = 1 << 16;

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
  uint64_t nonce;  // names the job: messages with another nonce are rejected
  uint32_t flags;
  PackedAddress root;
};
static_assert(sizeof(UniqueIdContent) <= NCCL_UNIQUE_ID_BYTES);

enum class BootstrapMsg : uint32_t { kHello = 1, kTable = 2, kP2p = 3 };

struct BootstrapHeader {
  uint32_t magic = kBootstrapMagic;
  BootstrapMsg type = BootstrapMsg::kP2p;
  uint64_t nonce = 0;
  int32_t rank = 0;  // sender
  int32_t nranks = 0;
  uint32_t tag = 0;
  uint32_t pad = 0;
  uint64_t bytes = 0;  // payload that follows
};

}  // namespace tccl
