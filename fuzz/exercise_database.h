// What the database fuzzers do with a database that loaded: it must read back through
// toJsonText and serve the tools and the planner without crashing.
#pragma once

#include <cstdlib>

#include "db/db_json.h"
#include "db/db_report.h"
#include "db/plan_from_db.h"

namespace tccl::fuzz {

inline void exerciseDatabase(const db::Database& db) {
  const db::LoadResult again = db::parseDatabase(db::toJsonText(db));
  if (!again.db) abort();  // a valid database must read back
  for (const db::NodeType& n : db.nodes) (void)db::drawNodeDot(n);
  (void)db::showDatabase(db);
  const int gpus = static_cast<int>(db.nodes[0].signature.gpus.size());
  for (int nodes : {1, 2, 3}) (void)db::explainJob(db, nodes, gpus, {});
}

// A rejection must say why.
inline void checkLoad(const db::LoadResult& r) {
  if (r.db)
    exerciseDatabase(*r.db);
  else if (r.error.empty())
    abort();
}

}  // namespace tccl::fuzz
