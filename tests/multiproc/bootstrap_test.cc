// The rendezvous under attack and failure: idle floods and slowloris clients on the root's
// port, a rank claimed twice, a stranger that knows only NCCL_COMM_ID, the address the root
// binds, and shared memory left behind by a rank killed during init.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <nccl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../common/forked_ranks.h"
#include "base/bootstrap_wire.h"

using tccl::test::report;
using tccl::test::runForkedRanks;

namespace {

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void sleepSec(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

tccl::SocketAddress rootOf(const ncclUniqueId& id) {
  tccl::UniqueIdContent content;
  memcpy(&content, id.internal, sizeof(content));
  return tccl::unpackAddress(content.root);
}

int connectRaw(const tccl::SocketAddress& to) {
  int fd = socket(to.storage.ss_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(&to.storage), to.length()) == 0)
    return fd;
  if (fd >= 0) close(fd);
  return -1;
}

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Every one of the n processes exited with 0.
void expectAllSucceeded(const std::vector<tccl::test::RankOutcome>& out, size_t n) {
  ASSERT_EQ(out.size(), n);
  for (size_t p = 0; p < n; ++p)
    EXPECT_EQ(out[p].exitCode, 0) << "process " << p << ": " << out[p].report;
}

// Setup of processes that rendezvous at NCCL_COMM_ID.
std::function<void(int)> commIdEnv(const std::string& commId, const char* timeoutSec) {
  return [commId, timeoutSec](int) {
    setenv("NCCL_COMM_ID", commId.c_str(), 1);
    setenv("TCCL_BOOTSTRAP_TIMEOUT", timeoutSec, 1);
  };
}

// Init, one AllReduce, destroy; reports how it went. 0 on success.
int initAndAllReduce(int rank, int nranks, const ncclUniqueId& id, int fd) {
  auto start = std::chrono::steady_clock::now();
  ncclComm_t comm;
  if (ncclCommInitRank(&comm, nranks, id, rank) != ncclSuccess) {
    report(fd, "init failed after " + std::to_string(secondsSince(start)) +
                   " s: " + ncclGetLastError(nullptr));
    return 1;
  }
  std::vector<int> buf(64, rank + 1);
  ncclResult_t res =
      ncclAllReduce(buf.data(), buf.data(), buf.size(), ncclInt, ncclSum, comm, nullptr);
  ncclCommDestroy(comm);
  if (res != ncclSuccess || buf[0] != nranks * (nranks + 1) / 2) {
    report(fd, "allreduce failed");
    return 2;
  }
  report(fd, "job done after " + std::to_string(secondsSince(start)) + " s");
  return 0;
}

// A counter that forked processes share (anonymous shared memory, made before they fork).
class SharedCounter {
 public:
  SharedCounter() {
    void* p = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) value_ = new (p) std::atomic<int>(0);
  }
  ~SharedCounter() {
    if (value_) munmap(value_, sizeof(std::atomic<int>));
  }
  std::atomic<int>* get() const { return value_; }
  // Waits (up to `seconds`) until the counter reaches `n`.
  static void awaitAtLeast(std::atomic<int>* c, int n, double seconds) {
    for (double waited = 0; c->load() < n && waited < seconds; waited += 0.05) sleepSec(0.05);
  }

 private:
  std::atomic<int>* value_ = nullptr;
};

// 150 idle connections and a client that sends its header one byte every 200 ms hold the
// rendezvous port, until the job is done (or 40 s), while the real ranks arrive: with a root
// that served one client at a time, up to 2 s each, the ranks waited out
// TCCL_BOOTSTRAP_TIMEOUT (20 s here).
TEST(Bootstrap, IdleFloodAndSlowlorisDoNotStarveTheJob) {
  SharedCounter done;
  ASSERT_NE(done.get(), nullptr);
  auto out = runForkedRanks(
      3,
      [finished = done.get()](int rank, int, const ncclUniqueId& id, int fd) {
        if (rank < 2) {
          sleepSec(1.0);  // the flood lands first
          const int rc = initAndAllReduce(rank, 2, id, fd);
          ++*finished;
          return rc;
        }
        const tccl::SocketAddress root = rootOf(id);
        std::vector<int> idle;
        for (int i = 0; i < 150; ++i)
          if (int s = connectRaw(root); s >= 0) idle.push_back(s);
        int slow = connectRaw(root);
        tccl::BootstrapHeader h;
        h.type = tccl::BootstrapMsg::kHello;
        for (size_t i = 0; i + 1 < sizeof(h) && slow >= 0 && finished->load() < 2; ++i) {
          if (send(slow, reinterpret_cast<char*>(&h) + i, 1, MSG_NOSIGNAL) != 1) break;
          sleepSec(0.2);
        }
        SharedCounter::awaitAtLeast(finished, 2, 40);
        report(fd, "held " + std::to_string(idle.size()) + " idle connections");
        for (int s : idle) close(s);
        if (slow >= 0) close(slow);
        return idle.size() >= 100 ? 0 : 1;
      },
      [](int) { setenv("TCCL_BOOTSTRAP_TIMEOUT", "20", 1); }, 90);
  expectAllSucceeded(out, 3);
}

// Two processes claim rank 1 before rank 0 arrives: nobody may silently win; every process
// learns that the rank was claimed twice, and by whom.
TEST(Bootstrap, RankClaimedTwiceFailsAndNamesBothClaimants) {
  auto out = runForkedRanks(
      3,
      [](int proc, int, const ncclUniqueId& id, int fd) {
        const int rank = proc == 2 ? 0 : 1;
        sleepSec(proc == 0 ? 0.0 : proc == 1 ? 1.0 : 3.0);
        ncclComm_t comm;
        auto start = std::chrono::steady_clock::now();
        ncclResult_t res = ncclCommInitRank(&comm, 2, id, rank);
        report(fd, std::string(ncclGetLastError(nullptr)) + " after " +
                       std::to_string(secondsSince(start)) + " s");
        if (res == ncclSuccess) {
          ncclCommDestroy(comm);
          return 1;
        }
        return 0;
      },
      [](int) { setenv("TCCL_BOOTSTRAP_TIMEOUT", "8", 1); }, 60);
  ASSERT_EQ(out.size(), 3u);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(out[p].exitCode, 0) << "process " << p << " formed a job: " << out[p].report;
    const std::string& msg = out[p].report;
    EXPECT_NE(msg.find("rank 1 was claimed twice: first by 127.0.0.1:"), std::string::npos) << msg;
    EXPECT_NE(msg.find(", then by 127.0.0.1:"), std::string::npos) << msg;
  }
}

// With NCCL_COMM_ID the root lingers after the job formed: a late claim of a taken rank is
// told who holds it, instead of waiting for its timeout at a closed port.
TEST(Bootstrap, LateClaimWithCommIdIsToldWhoHoldsTheRank) {
  const std::string commId = "127.0.0.1:" + std::to_string(freePort());
  SharedCounter joined;  // the job's ranks count themselves in once their init is done
  ASSERT_NE(joined.get(), nullptr);
  auto out = runForkedRanks(
      3,
      [joined = joined.get()](int proc, int, const ncclUniqueId&, int fd) {
        ncclUniqueId id;
        if (ncclGetUniqueId(&id) != ncclSuccess) return 3;
        if (proc == 2) SharedCounter::awaitAtLeast(joined, 2, 30);
        ncclComm_t comm;
        auto start = std::chrono::steady_clock::now();
        ncclResult_t res = ncclCommInitRank(&comm, 2, id, proc == 0 ? 0 : 1);
        if (proc < 2) {
          if (res != ncclSuccess) {
            report(fd, std::string("init failed: ") + ncclGetLastError(nullptr));
            return 1;
          }
          ++*joined;
          SharedCounter::awaitAtLeast(joined, 3, 30);  // rank 0's root outlives the late claim
          ncclCommDestroy(comm);
          return 0;
        }
        report(fd, std::string(ncclGetLastError(nullptr)) + " after " +
                       std::to_string(secondsSince(start)) + " s");
        ++*joined;
        return res != ncclSuccess && secondsSince(start) < 5 ? 0 : 2;
      },
      commIdEnv(commId, "10"), 60);
  expectAllSucceeded(out, 3);
  EXPECT_NE(out[2].report.find("rank 1 was claimed twice: first by 127.0.0.1:"), std::string::npos)
      << out[2].report;
  EXPECT_NE(out[2].report.find("which joined the job"), std::string::npos) << out[2].report;
}

// A stranger who knows NCCL_COMM_ID but not TCCL_JOB_SECRET claims rank 1 before the real one:
// it is turned away and the job forms.
TEST(Bootstrap, JobSecretKeepsOutWhoKnowsOnlyTheCommId) {
  const std::string commId = "127.0.0.1:" + std::to_string(freePort());
  auto out = runForkedRanks(
      3,
      [](int proc, int, const ncclUniqueId&, int fd) {
        ncclUniqueId id;
        if (ncclGetUniqueId(&id) != ncclSuccess) return 3;
        if (proc == 1) sleepSec(1.0);  // the stranger (proc 2) is first in line for rank 1
        if (proc < 2) return initAndAllReduce(proc, 2, id, fd);
        ncclComm_t comm;
        if (ncclCommInitRank(&comm, 2, id, 1) == ncclSuccess) {
          report(fd, "the stranger joined the job");
          ncclCommDestroy(comm);
          return 1;
        }
        report(fd, std::string("stranger refused: ") + ncclGetLastError(nullptr));
        return 0;
      },
      [&](int proc) {
        commIdEnv(commId, "5")(proc);
        if (proc < 2) setenv("TCCL_JOB_SECRET", "only the job knows", 1);
      },
      60);
  expectAllSucceeded(out, 3);
}

// NCCL_COMM_ID=127.0.0.1:port: the root listens there (as NCCL does), not on every address.
TEST(Bootstrap, CommIdRootBindsTheGivenAddress) {
  const int port = freePort();
  const std::string commId = "127.0.0.1:" + std::to_string(port);
  auto out = runForkedRanks(
      2,
      [port](int proc, int, const ncclUniqueId&, int fd) {
        if (proc == 0) {  // rank 0 of a 2-rank job whose rank 1 never comes: the root waits
          ncclUniqueId id;
          ncclComm_t comm;
          if (ncclGetUniqueId(&id) != ncclSuccess) return 3;
          return ncclCommInitRank(&comm, 2, id, 0) == ncclSuccess ? 1 : 0;
        }
        tccl::SocketAddress given, other;
        if (tccl::parseSocketAddress("127.0.0.1:" + std::to_string(port), &given) != ncclSuccess ||
            tccl::parseSocketAddress("127.0.0.2:" + std::to_string(port), &other) != ncclSuccess)
          return 3;
        int s = -1;
        for (int i = 0; i < 100 && s < 0; ++i, sleepSec(0.05)) s = connectRaw(given);
        if (s < 0) {
          report(fd, "the root never listened on the given address");
          return 1;
        }
        close(s);
        int t = connectRaw(other);
        if (t >= 0) {
          close(t);
          report(fd, "the root also accepts on 127.0.0.2: it bound every address");
          return 2;
        }
        return 0;
      },
      commIdEnv(commId, "4"), 60);
  expectAllSucceeded(out, 2);
}

// Shared-memory FIFOs of this size come only from the job below (TCCL_CHUNK_SIZE=69632 x 3
// slots plus the 4 KiB header): counting them tells what that job left in /dev/shm.
constexpr off_t kMarkedSegmentBytes = 4096 + 69632 * 3;

std::set<std::string> markedSegments() {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
    struct stat st {};
    if (e.path().filename().string().rfind("tccl-", 0) == 0 && stat(e.path().c_str(), &st) == 0 &&
        st.st_size == kMarkedSegmentBytes)
      names.insert(e.path().filename().string());
  }
  return names;
}

// Rank 0 plans two channels and rank 1 one (their NCCL_MIN_NCHANNELS differ), so rank 0's FIFO
// of channel 1 is never attached; both are killed during init. What they left in /dev/shm is
// removed by the next init on this machine.
TEST(Init, SegmentsOfRanksKilledMidInitAreRemovedByTheNextInit) {
  const std::set<std::string> before = markedSegments();  // leftovers of earlier runs
  ncclUniqueId id{};
  pid_t helper = -1;
  int release = -1;
  ASSERT_TRUE(tccl::test::uniqueIdFromHelper(&id, &helper, &release));
  pid_t ranks[2];
  for (int r = 0; r < 2; ++r) {
    ranks[r] = fork();
    if (ranks[r] == 0) {
      close(release);
      setenv("NCCL_SOCKET_IFNAME", "lo", 1);
      setenv("TCCL_FIFO_SLOTS", "3", 1);
      setenv("TCCL_CHUNK_SIZE", "69632", 1);
      setenv("NCCL_MIN_NCHANNELS", r == 0 ? "2" : "1", 1);
      setenv("TCCL_BOOTSTRAP_TIMEOUT", "30", 1);
      ncclComm_t comm;
      _exit(ncclCommInitRank(&comm, 2, id, r) == ncclSuccess ? 0 : 1);
    }
  }
  auto fromThisJob = [&before] {
    std::set<std::string> now = markedSegments();
    for (const std::string& n : before) now.erase(n);
    return now;
  };
  bool created = false;
  for (int i = 0; i < 200 && !created; ++i, sleepSec(0.05)) created = !fromThisJob().empty();
  sleepSec(1);  // what can be attached is attached by now; channel 1 never will be
  // Listed while the ranks live: once they are dead, any init on this machine (another test
  // running beside this one) may sweep their segments before this test looks.
  const std::set<std::string> leaked = fromThisJob();
  for (pid_t p : ranks) kill(p, SIGKILL);
  for (pid_t p : ranks) waitpid(p, nullptr, 0);
  close(release);
  waitpid(helper, nullptr, 0);
  ASSERT_TRUE(created) << "rank 0 never created its FIFOs";
  ASSERT_FALSE(leaked.empty()) << "nothing was left behind: the test proves nothing";

  expectAllSucceeded(runForkedRanks(
                         2, initAndAllReduce, [](int) {}, 60),
                     2);  // the next init
  for (const std::string& n : markedSegments())
    EXPECT_EQ(leaked.count(n), 0u) << "/dev/shm/" << n << " of a killed rank is still there";
}

}  // namespace
