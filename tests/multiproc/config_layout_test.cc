// ncclCommInitRankConfig and ncclCommSplit with the ncclConfig_t of programs built against
// the 2.19, 2.23, 2.27, 2.28 and 2.30 headers (tests/common/nccl_config_layouts.h), on forked
// host ranks. Every config sets blocking = 0, so init and split must answer ncclInProgress:
// proof that the field was read at the caller's offsets. The struct ends at a guard page, so
// reading past the caller's size kills the rank. A bad magic and a size below the oldest
// layout must be refused by both. Prints a table of the results.
#include <gtest/gtest.h>
#include <nccl.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../common/forked_ranks.h"
#include "../common/nccl_config_layouts.h"

using namespace tccl::test;

namespace {

constexpr int kRanks = 2;

std::string resultName(ncclResult_t r) {
  switch (r) {
    case ncclSuccess:
      return "ncclSuccess";
    case ncclInProgress:
      return "ncclInProgress";
    case ncclInvalidArgument:
      return "ncclInvalidArgument";
    default:
      return "result " + std::to_string(static_cast<int>(r));
  }
}

// Polls a non-blocking communicator until its init is over.
ncclResult_t waitReady(ncclComm_t comm) {
  ncclResult_t state = ncclInProgress;
  while (state == ncclInProgress)
    if (ncclCommGetAsyncError(comm, &state) != ncclSuccess) return ncclInternalError;
  return state;
}

bool allReduceWorks(ncclComm_t comm, int rank, int nranks) {
  std::vector<int> v(1031, rank + 1);
  if (ncclAllReduce(v.data(), v.data(), v.size(), ncclInt, ncclSum, comm, nullptr) != ncclSuccess)
    return false;
  for (int x : v)
    if (x != nranks * (nranks + 1) / 2) return false;
  return true;
}

// One rank: init with a Config of one header (blocking = 0, then `adjust`), an AllReduce, a
// split with the same kind of Config (ranks in reverse order), an AllReduce on the child.
// Reports "init=<result>" and "split=<result>". A refused config is reported and the rank goes
// on with a default communicator, to try the split with it too and then a valid split.
template <typename Config>
int layoutRank(unsigned version, void (*adjust)(Config*), int rank, int n, const ncclUniqueId& id,
               int fd) {
  GuardedConfig<Config> config(version);
  config->blocking = 0;
  adjust(config.get());
  ncclComm_t comm = nullptr;
  ncclResult_t init = ncclCommInitRankConfig(&comm, n, id, rank, config.asNccl());
  report(fd, "init=" + resultName(init));
  if (init == ncclInvalidArgument) {
    if (comm != nullptr) return 1;
    report(fd, std::string("message=") + ncclGetLastError(nullptr));
    if (ncclCommInitRank(&comm, n, id, rank) != ncclSuccess) return 2;
  } else if (init != ncclInProgress || waitReady(comm) != ncclSuccess) {
    return 3;
  }
  if (!allReduceWorks(comm, rank, n)) return 4;

  GuardedConfig<Config> childConfig(version);
  childConfig->blocking = 0;
  adjust(childConfig.get());
  ncclComm_t child = nullptr;
  ncclResult_t split = ncclCommSplit(comm, 0, -rank, &child, childConfig.asNccl());
  report(fd, "split=" + resultName(split));
  if (split == ncclInvalidArgument) {
    // Refused on each rank before any rank waited: the parent still splits.
    if (child != nullptr) return 5;
    if (ncclCommSplit(comm, 0, -rank, &child, nullptr) != ncclSuccess) return 6;
  } else if (split != ncclInProgress || !child || waitReady(child) != ncclSuccess) {
    return 7;
  }
  int childRank = -1;
  if (ncclCommUserRank(child, &childRank) != ncclSuccess || childRank != n - 1 - rank) return 8;
  if (!allReduceWorks(child, rank, n)) return 9;
  ncclCommDestroy(child);
  ncclCommDestroy(comm);
  return 0;
}

struct LayoutRow {
  std::string header;
  size_t size;
  std::string init, split, message;
  bool passed;
};

template <typename Config>
LayoutRow runLayout(
    const char* header, unsigned version, void (*adjust)(Config*) = [](Config*) {}) {
  auto out =
      runForkedRanks(kRanks, [version, adjust](int rank, int n, const ncclUniqueId& id, int fd) {
        return layoutRank<Config>(version, adjust, rank, n, id, fd);
      });
  GuardedConfig<Config> sample(version);
  adjust(sample.get());
  LayoutRow row{header, sample->size, "-", "-", "", out.size() == kRanks};
  for (const RankOutcome& o : out) {
    row.passed = row.passed && o.exitCode == 0;
    // Both ranks report the same results when they pass; show rank 0's, or the failing one's.
    if (o.exitCode != 0 || &o == &out.front()) {
      auto field = [&](const std::string& key) {
        size_t at = o.report.find(key + "=");
        if (at == std::string::npos) return std::string("-");
        at += key.size() + 1;
        return o.report.substr(at, o.report.find('\n', at) - at);
      };
      row.init = field("init");
      row.split = field("split");
      row.message = field("message");
      if (o.exitCode != 0) row.split += " (rank exit " + std::to_string(o.exitCode) + ")";
    }
  }
  return row;
}

TEST(ConfigLayout, InitAndSplitWithEveryHeadersConfig) {
  std::vector<LayoutRow> ok, refused;
  ok.push_back(runLayout<NcclConfig_2_19>("2.19.3", NCCL_VERSION(2, 19, 3)));
  ok.push_back(runLayout<NcclConfig_2_23>("2.23.4", NCCL_VERSION(2, 23, 4)));
  ok.push_back(runLayout<NcclConfig_2_27>("2.27.3", NCCL_VERSION(2, 27, 3)));
  ok.push_back(runLayout<NcclConfig_2_28>("2.28.9", NCCL_VERSION(2, 28, 9)));
  ok.push_back(runLayout<NcclConfig_2_30>("2.30.7", NCCL_VERSION(2, 30, 7)));
  refused.push_back(runLayout<NcclConfig_2_28>("2.28.9 bad magic", NCCL_VERSION(2, 28, 9),
                                               [](NcclConfig_2_28* c) { c->magic = 0x12345678; }));
  refused.push_back(runLayout<NcclConfig_2_28>("2.28.9 size 16", NCCL_VERSION(2, 28, 9),
                                               [](NcclConfig_2_28* c) { c->size = 16; }));

  printf("\n%-18s %5s  %-20s %-20s %s\n", "nccl.h config", "size", "init (blocking=0)",
         "split (blocking=0)", "ranks");
  for (const auto* rows : {&ok, &refused})
    for (const LayoutRow& r : *rows)
      printf("%-18s %5zu  %-20s %-20s %s\n", r.header.c_str(), r.size, r.init.c_str(),
             r.split.c_str(), r.passed ? "OK" : "FAILED");
  for (const LayoutRow& r : refused) printf("%s: %s\n", r.header.c_str(), r.message.c_str());
  fflush(stdout);

  for (const LayoutRow& r : ok) {
    EXPECT_TRUE(r.passed) << r.header;
    EXPECT_EQ(r.init, "ncclInProgress") << r.header;
    EXPECT_EQ(r.split, "ncclInProgress") << r.header;
  }
  for (const LayoutRow& r : refused) {
    EXPECT_TRUE(r.passed) << r.header;
    EXPECT_EQ(r.init, "ncclInvalidArgument") << r.header;
    EXPECT_EQ(r.split, "ncclInvalidArgument") << r.header;
    EXPECT_NE(r.message.find("NCCL_CONFIG_INITIALIZER"), std::string::npos) << r.message;
  }
}

}  // namespace
