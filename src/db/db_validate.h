// Semantic checks of a decoded path database (docs/db-format.md, "Validation").
#pragma once

#include <string>

#include "db/database.h"

namespace tccl::db {

// Anything above this many GB/s is treated as a corrupt measurement.
inline constexpr double kMaxGbps = 10000.0;
inline constexpr int kMaxGpusPerNode = 64;
inline constexpr int kMaxNumaNodes = 64;
inline constexpr int kMaxNicsPerNode = 64;

// Returns "" when `db` is consistent, else the first problem prefixed by its JSON path,
// e.g. "nodes[0].intra[1].channels[0].order: GPU 2 visited twice".
std::string validateDatabase(const Database& db);

}  // namespace tccl::db
