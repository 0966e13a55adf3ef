#include "base/job_secret.h"

#include <sys/random.h>

#include <cstring>
#include <random>

#include "base/env.h"

namespace tccl {
namespace {

// FNV-1a, 128 bits: spreads the inputs over the whole secret (not a cryptographic hash: the
// secret travels in the clear anyway, and what makes it unguessable is TCCL_JOB_SECRET).
class Fnv128 {
 public:
  void add(const std::string& s) {
    for (unsigned char c : s) h_ = (h_ ^ c) * kPrime;
    h_ = (h_ ^ 0xff) * kPrime;  // separator: ("ab", "c") and ("a", "bc") differ
  }
  JobSecret value() const {
    return JobSecret{{static_cast<uint64_t>(h_ >> 64), static_cast<uint64_t>(h_)}};
  }

 private:
  static constexpr unsigned __int128 kPrime =
      (static_cast<unsigned __int128>(1) << 88) + 0x13b;  // FNV-128 prime
  unsigned __int128 h_ =
      (static_cast<unsigned __int128>(0x6c62272e07bb0142ull) << 64) | 0x62b821756295c58dull;
};

// The user's secret, then the job ids that every rank of one launch shares: torchrun, Slurm,
// Open MPI / PMIx.
constexpr const char* kMixedVars[] = {
    "TCCL_JOB_SECRET", "TORCHELASTIC_RUN_ID",     "SLURM_JOB_ID",
    "SLURM_STEP_ID",   "OMPI_MCA_ess_base_jobid", "PMIX_NAMESPACE"};

}  // namespace

JobSecret randomJobSecret() {
  JobSecret s;
  if (getrandom(s.word, sizeof(s.word), 0) != static_cast<ssize_t>(sizeof(s.word))) {
    std::random_device rd;
    for (uint64_t& w : s.word) w = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  return s;
}

JobSecret commIdJobSecret(const std::string& commId, std::string* mixed) {
  Fnv128 h;
  h.add("tccl-job-secret-v1");
  h.add(commId);
  mixed->clear();
  for (const char* var : kMixedVars) {
    const std::string v = envString(var);
    h.add(v);
    if (!v.empty()) *mixed += std::string(mixed->empty() ? "" : ", ") + var;
  }
  return h.value();
}

}  // namespace tccl
