// Every file in tests/db/bad must be rejected with a message naming its problem
// (tests/db/bad/expected.txt), and every file in tests/db/good must load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "db/db_json.h"
#include "db/tccl_xml_import.h"

namespace tccl::db {
namespace {

namespace fs = std::filesystem;

LoadResult loadAny(const fs::path& file) {
  return file.extension() == ".xml" ? importTcclXmlFile(file.string())
                                    : loadDatabaseFile(file.string());
}

std::map<std::string, std::string> expectations() {
  std::map<std::string, std::string> out;
  std::ifstream in(fs::path(TCCL_DB_TEST_DIR) / "bad" / "expected.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

TEST(DbCorpus, EveryBadFileGivesItsMessage) {
  const auto expected = expectations();
  int json = 0, xml = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(TCCL_DB_TEST_DIR) / "bad")) {
    const std::string name = entry.path().filename().string();
    if (name == "expected.txt") continue;
    SCOPED_TRACE(name);
    auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "no line for " << name << " in bad/expected.txt";
    const LoadResult r = loadAny(entry.path());
    EXPECT_FALSE(r.db);
    EXPECT_NE(r.error.find(it->second), std::string::npos)
        << "message: " << r.error << "\nwanted:  " << it->second;
    // The message starts with the file name so the user knows which file is bad.
    EXPECT_EQ(r.error.rfind(entry.path().string(), 0), 0u) << r.error;
    (entry.path().extension() == ".xml" ? xml : json)++;
  }
  EXPECT_GE(json, 25);
  EXPECT_GE(xml, 3);
  for (const auto& [name, text] : expected)
    EXPECT_TRUE(fs::exists(fs::path(TCCL_DB_TEST_DIR) / "bad" / name)) << name << " is missing";
}

TEST(DbCorpus, EveryGoodFileLoads) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(TCCL_DB_TEST_DIR) / "good")) {
    SCOPED_TRACE(entry.path().string());
    const LoadResult r = loadAny(entry.path());
    EXPECT_TRUE(r.db) << r.error;
    ++n;
  }
  EXPECT_GE(n, 2);
}

}  // namespace
}  // namespace tccl::db
