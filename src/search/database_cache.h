// TCCL_DB=auto: a node's path database, searched with the bandwidth model the first time and
// kept on disk, keyed by everything that decides its content (the node's topology with every
// number, and the TCCL version). Written to a temporary file and renamed, so readers never see
// half a file and concurrent writers (two jobs, or nodes sharing a home directory) are safe;
// a file that does not parse or does not belong to this node is rebuilt.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "topo/topology.h"

namespace tccl::pathfinder {

struct AutoDatabase {
  std::optional<db::Database> db;
  std::string text;                   // the database as JSON, as written to the cache
  std::string path;                   // the cache file; empty when there is no cache directory
  bool fromCache = false;             // read from `path` rather than searched now
  double seconds = 0;                 // time to read or to search
  std::vector<std::string> warnings;  // a stale or corrupt cache file, a failed write
  std::string error;                  // set when there is no database
};

// $XDG_CACHE_HOME/tccl, else $HOME/.cache/tccl; empty when neither variable is set.
std::string defaultCacheDirectory();
// "tccl-db-<TCCL version>-<16 hex digits of the topology's fingerprint>.json"
std::string cacheFileName(const topo::Topology& topo);

// The database for `topo`: from `cacheDir` when a valid one is there, else searched (with
// `jobs` threads) and written there. `topologyName` goes into the provenance.
AutoDatabase loadOrBuildDatabase(const topo::Topology& topo, const std::string& topologyName,
                                 const std::string& cacheDir, int jobs);

}  // namespace tccl::pathfinder
