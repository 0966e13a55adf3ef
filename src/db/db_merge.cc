#include <ctime>
#include <map>

#include "db/db_report.h"
#include "db/db_validate.h"

#ifndef TCCL_DB_TOOL_VERSION
#define TCCL_DB_TOOL_VERSION "unknown"
#endif

namespace tccl::db {

LoadResult mergeDatabases(const std::vector<Database>& inputs,
                          const std::vector<std::string>& inputNames) {
  LoadResult result;
  auto nameOf = [&](size_t i) {
    return i < inputNames.size() ? inputNames[i] : "input " + std::to_string(i + 1);
  };
  Database merged;
  std::map<std::string, size_t> seen;  // node type name -> input
  std::map<std::string, int> profilers, topologies;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const NodeType& n : inputs[i].nodes) {
      auto [it, inserted] = seen.emplace(n.name, i);
      if (!inserted) {
        result.error = "duplicate node type name '" + n.name + "' in " + nameOf(it->second) +
                       " and " + nameOf(i) + " (rename one with tccl-db import --name)";
        return result;
      }
      merged.nodes.push_back(n);
    }
    profilers[inputs[i].provenance.profiler]++;
    topologies[inputs[i].provenance.topology]++;
  }
  auto join = [](const std::map<std::string, int>& m) {
    std::string s;
    for (const auto& [k, count] : m) s += (s.empty() ? "" : ",") + k;
    return s;
  };
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  merged.provenance = {"tccl-db merge", TCCL_DB_TOOL_VERSION, join(profilers), date,
                       join(topologies)};
  result.error = validateDatabase(merged);
  if (result.error.empty()) result.db = std::move(merged);
  return result;
}

}  // namespace tccl::db
