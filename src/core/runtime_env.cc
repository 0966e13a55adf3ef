#include "core/runtime_env.h"

#include <cctype>
#include <cstdlib>

#include "base/env.h"
#include "base/error.h"
#include "plan/nccl_baseline.h"

namespace tccl {

ncclResult_t readRuntimeEnv(RuntimeEnv* env) {
  TCCL_CHECK(envInt("TCCL_BOOTSTRAP_TIMEOUT", 120, 1, 86400, &env->bootstrapTimeoutSec));
  TCCL_CHECK(envInt("TCCL_TIMEOUT", 300, 1, 86400 * 7, &env->timeoutSec));
  TCCL_CHECK(envBytes("TCCL_CHUNK_SIZE", 1 << 20, 4096, 1ll << 30, &env->chunkBytes));
  TCCL_CHECK(envInt("TCCL_FIFO_SLOTS", 4, 2, 64, &env->nSlots));
  TCCL_CHECK(envInt("NCCL_MIN_NCHANNELS", 1, 1, 32, &env->nChannels));
  TCCL_CHECK(readDeviceSetting(&env->device));
  env->dbPath = envString("TCCL_DB");
  env->xmlPath = envString("TCCL_XML_FILE");
  env->dbNode = envString("TCCL_DB_NODE");
  int64_t strict = 0;
  TCCL_CHECK(envInt("TCCL_DB_STRICT", 0, 0, 1, &strict));
  env->dbStrict = strict != 0;
  env->simTopology = envString("TCCL_SIM_TOPOLOGY");
  int64_t direct = 1;
  TCCL_CHECK(envInt("TCCL_DIRECT_ALLREDUCE", 1, 0, 1, &direct));
  env->directAllReduce = direct != 0;
  env->algo = envString("NCCL_ALGO");
  for (char& c : env->algo) c = static_cast<char>(tolower(c));
  if (!env->algo.empty() && env->algo != "ring" && env->algo != "tree")
    return setError(ncclInvalidArgument, "NCCL_ALGO='%s' is not supported (ring or tree)",
                    env->algo.c_str());
  TCCL_CHECK(envInt("NCCL_SOCKET_NTHREADS", 2, 1, 16, &env->netThreads));
  TCCL_CHECK(envInt("NCCL_NSOCKS_PERTHREAD", 1, 1, 64, &env->netSocksPerThread));
  if (env->netThreads * env->netSocksPerThread > 64)
    return setError(
        ncclInvalidArgument,
        "NCCL_SOCKET_NTHREADS=%lld x NCCL_NSOCKS_PERTHREAD=%lld exceeds 64 sockets per hop",
        static_cast<long long>(env->netThreads), static_cast<long long>(env->netSocksPerThread));
  int64_t localRegister = 1;
  TCCL_CHECK(envInt("NCCL_LOCAL_REGISTER", 1, 0, 1, &localRegister));
  env->localRegister = localRegister != 0;
  TCCL_CHECK(envBytes("TCCL_TREE_MAX_BYTES", 256 << 10, 0, 1ll << 40, &env->treeMaxBytes));
  env->ncclRelease = nccl::installedRelease();
  std::string error;
  if (!nccl::readKnobs([](const char* name) { return getenv(name); }, env->ncclRelease,
                       &env->ncclKnobs, &error))
    return setError(ncclInvalidArgument, "%s", error.c_str());
  return ncclSuccess;
}

}  // namespace tccl
