#include <mutex>
#include <set>

#include "core/communicator.h"

namespace tccl {
namespace {
std::mutex gMutex;
std::set<const ncclComm*>& liveComms() {
  static std::set<const ncclComm*> s;
  return s;
}
}  // namespace

void registerComm(ncclComm* comm) {
  std::lock_guard<std::mutex> lock(gMutex);
  liveComms().insert(comm);
}

void unregisterComm(ncclComm* comm) {
  std::lock_guard<std::mutex> lock(gMutex);
  liveComms().erase(comm);
}

bool isLiveComm(const ncclComm* comm) {
  std::lock_guard<std::mutex> lock(gMutex);
  return liveComms().count(comm) != 0;
}

ncclResult_t waitCommReady(ncclComm* comm) {
  {
    std::lock_guard<std::mutex> lock(comm->mutex);
    if (comm->initThread.joinable() && comm->initThread.get_id() != std::this_thread::get_id())
      comm->initThread.join();
  }
  ncclResult_t res = comm->asyncError.load();
  return res;
}

}  // namespace tccl
