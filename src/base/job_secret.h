// The secret that admits a rank to a job's rendezvous. ncclGetUniqueId without NCCL_COMM_ID
// puts 128 random bits into the id. With NCCL_COMM_ID every rank derives the secret from the
// variable, mixed with TCCL_JOB_SECRET and the launcher's job id where those exist: only
// TCCL_JOB_SECRET is a real secret (job ids can be listed by other users of the cluster).
#pragma once

#include <string>

#include "base/bootstrap_wire.h"

namespace tccl {

JobSecret randomJobSecret();
// *mixed names what went in besides NCCL_COMM_ID (variable names, never values).
JobSecret commIdJobSecret(const std::string& commId, std::string* mixed);

}  // namespace tccl
