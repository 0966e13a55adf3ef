// Reading and writing the path database as JSON (docs/db-format.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "db/database.h"

namespace tccl::db {

struct LoadResult {
  std::optional<Database> db;  // set on success
  std::string error;           // on failure: what is wrong, with the JSON path, e.g.
                      // "nodes[0].intra[2].channels[0].hops[1].kind: unknown hop kind 'p2p'"
};

// Parses and fully validates a database document.
LoadResult parseDatabase(std::string_view jsonText);
LoadResult loadDatabaseFile(const std::string& path);

// Pretty-printed JSON that parseDatabase reads back to an equal Database.
std::string toJsonText(const Database& db);

}  // namespace tccl::db
