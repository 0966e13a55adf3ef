// libFuzzer entry: bytes to the path database's JSON loader. The loader must never crash,
// hang or leak; what loads must round-trip and plan (exercise_database.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exercise_database.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tccl::fuzz::checkLoad(tccl::db::parseDatabase(text));
  return 0;
}
