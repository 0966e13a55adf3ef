// libFuzzer entry: feeds bytes to the JSON loader (or the TCCL XML importer when the input
// starts with '<'). Whatever loads must round-trip through toJsonText and must plan without
// crashing; the loaders themselves must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "db/db_json.h"
#include "db/db_report.h"
#include "db/plan_from_db.h"
#include "db/tccl_xml_import.h"

namespace {

using namespace tccl::db;

void exercise(const Database& db) {
  const LoadResult again = parseDatabase(toJsonText(db));
  if (!again.db) abort();  // a valid database must read back
  for (const NodeType& n : db.nodes) (void)drawNodeDot(n);
  (void)showDatabase(db);
  const int gpus = static_cast<int>(db.nodes[0].signature.gpus.size());
  for (int nodes : {1, 2, 3}) (void)explainJob(db, nodes, gpus, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult r =
      (!text.empty() && text[0] == '<') ? importTcclXml(text) : parseDatabase(text);
  if (r.db)
    exercise(*r.db);
  else if (r.error.empty())
    abort();  // a rejection must say why
  return 0;
}
