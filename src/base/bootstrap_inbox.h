// A bootstrap listening socket served without blocking: connections are accepted as they come
// and read side by side (poll), so that no single client can hold the door. A client gets
// a few seconds to send a valid header. At most kMaxStrangers connections without one are
// held: past that, the oldest of them (if it had kGraceSec to speak: a rank sends its header
// at once) makes room for a new one, else new ones wait in the backlog. So idle floods and
// slowloris clients cannot starve the real ranks. Used by the rendezvous root and by every
// rank's own listener.
#pragma once

#include <poll.h>

#include <list>
#include <string>
#include <vector>

#include "base/bootstrap_wire.h"

namespace tccl {

class BootstrapInbox {
 public:
  static constexpr size_t kMaxStrangers = 128;
  static constexpr double kHeaderTimeoutSec = 5;
  static constexpr double kGraceSec = 1;

  struct Message {
    BootstrapHeader header;
    std::vector<char> payload;
    Fd conn;           // still open: the root answers on it
    std::string from;  // the peer's address
  };

  // `owner` names the server in log lines ("bootstrap root", "rank 3"); an accepted header's
  // payload must arrive within payloadTimeoutSec.
  BootstrapInbox(Fd listener, MessageReader::Check check, std::string owner,
                 double payloadTimeoutSec);

  // Serves the socket until `until`, or until a message completed, or until `extra` (when not
  // null) has one of its events (then extra->revents says which). Completed messages are
  // appended to *out. Fails only on a local error or when the thread's wait is cancelled.
  ncclResult_t pump(Deadline until, pollfd* extra, std::vector<Message>* out);

  // Connections dropped so far (strangers, garbage, timeouts).
  size_t dropped() const { return dropped_; }

 private:
  struct Pending {
    Fd fd;
    MessageReader reader;
    Deadline accepted;
    Deadline deadline;
    std::string from;
  };
  // Accepts what the cap allows and reads at once what came with each connection. Returns
  // when a new connection may be accepted again (now, or when the oldest stranger is evictable).
  Deadline acceptAll(std::vector<Message>* out);
  // False when the connection is finished with (done, dropped); a done message goes to *out.
  bool readFrom(Pending& p, std::vector<Message>* out);
  void drop(Pending& p, const char* why);

  Fd listener_;
  MessageReader::Check check_;
  std::string owner_;
  double payloadTimeoutSec_;
  std::list<Pending> pending_;  // oldest first
  Deadline acceptAgain_{};      // the listener waits until then (the strangers are at the cap)
  size_t dropped_ = 0;
};

}  // namespace tccl
