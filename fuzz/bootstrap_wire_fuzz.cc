// libFuzzer entry: bytes from a bootstrap socket, as each receiver reads them: the root (a
// hello), a rank (the root's reply, or another rank's message). The first input byte picks the
// receiver and how the bytes are split into reads (the network may cut anywhere); the rest is
// the stream. Whatever a message claims, the reader must never crash, read past what it was
// given, or allocate before the header passed its check; what passes must be usable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/bootstrap_wire.h"

namespace {

using namespace tccl;

// The secret and job size the fuzzed receivers expect: the corpus's valid messages carry them.
constexpr JobSecret kSecret{{0x0123456789abcdefull, 0xfedcba9876543210ull}};
constexpr int kNranks = 4;

void usePayload(const BootstrapHeader& h, const std::vector<char>& payload) {
  if (h.type == BootstrapMsg::kHello || h.type == BootstrapMsg::kTable) {
    size_t offset = h.type == BootstrapMsg::kTable ? sizeof(TablePayload) : 0;
    for (; offset + sizeof(PackedAddress) <= payload.size(); offset += sizeof(PackedAddress)) {
      PackedAddress a;
      memcpy(&a, payload.data() + offset, sizeof(a));
      (void)unpackAddress(a).toString();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const unsigned role = data[0] % 3;
  const size_t chunk = 1 + (data[0] >> 2);  // bytes per read: 1..64
  MessageReader reader([role](const BootstrapHeader& h) -> const char* {
    switch (role) {
      case 0:
        return checkHello(h, kSecret);
      case 1:
        return checkRootReply(h, kSecret, kNranks);
      default:
        return checkP2p(h, kSecret, kNranks);
    }
  });
  const char* stream = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1;
  while (left > 0 && reader.wanted() > 0) {
    const size_t n = std::min(left, chunk);
    const size_t used = reader.consume(stream, n);
    if (used > n) abort();
    stream += used;
    left -= used;
    if (used == 0) break;
  }
  // Nothing past the check may be reserved for a rejected header.
  if (reader.rejected() && reader.payload().capacity() != 0) abort();
  if (reader.done()) {
    if (reader.payload().size() != reader.header().bytes) abort();
    usePayload(reader.header(), reader.payload());
  }
  return 0;
}
