// libFuzzer entry: bytes to the importer of the original TCCL's XML database (TCCL_XML_FILE).
// It must never crash, hang or leak; what imports must round-trip and plan.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "db/tccl_xml_import.h"
#include "exercise_database.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tccl::fuzz::checkLoad(tccl::db::importTcclXml(text));
  return 0;
}
