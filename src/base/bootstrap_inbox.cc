#include "base/bootstrap_inbox.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/log.h"

namespace tccl {

BootstrapInbox::BootstrapInbox(Fd listener, MessageReader::Check check, std::string owner,
                               double payloadTimeoutSec)
    : listener_(std::move(listener)),
      check_(std::move(check)),
      owner_(std::move(owner)),
      payloadTimeoutSec_(payloadTimeoutSec) {
  (void)setNonBlocking(listener_, true);
}

void BootstrapInbox::drop(Pending& p, const char* why) {
  // The first one is worth a warning (a misconfigured rank looks like this); a flood is not.
  if (dropped_++ == 0)
    WARN("%s: dropped a bootstrap connection from %s: %s", owner_.c_str(), p.from.c_str(), why);
  else
    INFO(kLogBootstrap, "%s: dropped a bootstrap connection from %s: %s", owner_.c_str(),
         p.from.c_str(), why);
}

Deadline BootstrapInbox::acceptAll(std::vector<Message>* out) {
  for (int i = 0; i < 256; ++i) {
    auto oldest = pending_.end();
    size_t strangers = 0;
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
      if (!it->reader.headerDone() && strangers++ == 0) oldest = it;
    if (strangers >= kMaxStrangers) {
      const Deadline evictable = oldest->accepted + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(kGraceSec));
      if (Clock::now() < evictable) return evictable;  // the backlog holds the newcomers
      drop(*oldest, "too many connections without a header: the oldest makes room");
      pending_.erase(oldest);
    }
    int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) break;  // EAGAIN, or a transient error the next poll retries
    Fd conn(fd);
    std::string from = peerName(conn);
    const Deadline now = Clock::now();
    pending_.push_back(Pending{std::move(conn), MessageReader(check_), now,
                               deadlineAfter(kHeaderTimeoutSec), std::move(from)});
    // A rank's message usually came with its connection: take it now.
    if (!readFrom(pending_.back(), out)) pending_.pop_back();
  }
  return Clock::now();
}

bool BootstrapInbox::readFrom(Pending& p, std::vector<Message>* out) {
  char buf[64 << 10];
  while (size_t want = p.reader.wanted()) {
    ssize_t n = recv(p.fd.get(), buf, std::min(want, sizeof(buf)), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (n <= 0) {
      drop(p, n == 0 ? "closed before the message was complete" : strerror(errno));
      return false;
    }
    const bool hadHeader = p.reader.headerDone();
    p.reader.consume(buf, static_cast<size_t>(n));
    if (const char* why = p.reader.rejected()) {
      drop(p, why);
      return false;
    }
    if (!hadHeader && p.reader.headerDone()) p.deadline = deadlineAfter(payloadTimeoutSec_);
  }
  out->push_back(Message{p.reader.header(), std::move(p.reader.payload()), std::move(p.fd),
                         std::move(p.from)});
  return false;
}

ncclResult_t BootstrapInbox::pump(Deadline until, pollfd* extra, std::vector<Message>* out) {
  const size_t already = out->size();
  std::vector<pollfd> pfds;
  while (true) {
    Deadline now = Clock::now();
    const bool listen = now >= acceptAgain_;
    pfds.clear();
    pfds.push_back({listen ? listener_.get() : -1, POLLIN, 0});
    Deadline wake = listen ? until : std::min(until, acceptAgain_);
    for (const Pending& p : pending_) {
      pfds.push_back({p.fd.get(), POLLIN, 0});
      wake = std::min(wake, p.deadline);
    }
    if (extra) pfds.push_back({extra->fd, extra->events, 0});
    int rc = poll(pfds.data(), pfds.size(), pollSliceMs(wake));
    if (rc < 0 && errno != EINTR) return setError(ncclSystemError, "poll(): %s", strerror(errno));
    if (rc > 0) {
      size_t i = 1;
      for (auto it = pending_.begin(); i < pfds.size() && it != pending_.end(); ++i) {
        if (pfds[i].revents && !readFrom(*it, out))
          it = pending_.erase(it);
        else
          ++it;
      }
      if (pfds[0].revents & POLLIN) acceptAgain_ = acceptAll(out);
    }
    now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (now >= it->deadline) {
        drop(*it, it->reader.headerDone() ? "the message did not arrive in time"
                                          : "no valid header in time");
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (extra) extra->revents = rc > 0 ? pfds.back().revents : 0;
    if (out->size() > already || (extra && extra->revents)) return ncclSuccess;
    if (socketWaitCancelled())
      return setError(ncclRemoteError, "%s: aborted while waiting for bootstrap messages",
                      owner_.c_str());
    if (now >= until) return ncclSuccess;
  }
}

}  // namespace tccl
