// Every tag passed to Bootstrap::send/recv, in one list: a message is matched by (peer, tag), so
// two uses sharing a tag between the same two ranks would take each other's messages. The
// static_asserts below check that no two entries overlap.
#pragma once

#include <array>
#include <cstdint>

namespace tccl::bootstrap_tags {

// Tags first .. first + count - 1.
struct Range {
  uint32_t first;
  uint32_t count;
};

// Connection tags: a hop is set up with one of these, the same on both ends. Below kFlagBits.
inline constexpr Range kRing{0x100, 0xf00};      // ring of channel c: kRing.first + c
inline constexpr Range kTree{0x1000, 0xf000};    // links of tree t: kTree.first + t
inline constexpr uint32_t kP2p = 0x10000;        // every send/recv hop (one per peer pair)
inline constexpr Range kTests{0x13000, 0x1000};  // tests that drive a Bootstrap directly
// Messages of the communicator itself.
inline constexpr uint32_t kShrink = 0x20000;      // ncclCommShrink: the survivors' new unique id
inline constexpr uint32_t kAutoDbSize = 0x30000;  // the node leader's auto database: its size,
inline constexpr uint32_t kAutoDbText = 0x30001;  // then its text

// Flag bits. The shm and CUDA transports OR kAttached onto a connection tag for the message
// that follows the connection's own handshake (transport/attach_handshake.h); the bootstrap's
// collectives (allGather, barrier) use kCollective | a 31-bit sequence number.
inline constexpr uint32_t kAttached = 0x40000000;
inline constexpr uint32_t kCollective = 0x80000000u;
inline constexpr uint32_t kFlagBits = kAttached | kCollective;

namespace detail {
constexpr Range one(uint32_t tag) {
  return {tag, 1};
}
inline constexpr std::array kAll{
    kRing, kTree, one(kP2p), kTests, one(kShrink), one(kAutoDbSize), one(kAutoDbText)};
constexpr bool disjoint() {
  for (size_t i = 0; i < kAll.size(); ++i)
    for (size_t j = i + 1; j < kAll.size(); ++j)
      if (kAll[i].first < kAll[j].first + kAll[j].count &&
          kAll[j].first < kAll[i].first + kAll[i].count)
        return false;
  return true;
}
constexpr bool belowFlags() {
  for (const Range& r : kAll)
    if (r.count == 0 || ((r.first + r.count - 1) & kFlagBits) != 0 || r.first + r.count < r.first)
      return false;
  return true;
}
}  // namespace detail

static_assert(detail::disjoint(), "two bootstrap tag ranges overlap");
static_assert(detail::belowFlags(), "a bootstrap tag reaches into the flag bits");
static_assert((kAttached & kCollective) == 0, "bootstrap flag bits overlap");

}  // namespace tccl::bootstrap_tags
