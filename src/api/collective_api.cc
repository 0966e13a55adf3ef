// Collectives: argument checks, then a task for the current group.
#include <cstring>

#include "api/api.h"
#include "base/datatype.h"
#include "base/error.h"
#include "core/communicator.h"
#include "core/group.h"

using namespace tccl;

namespace {

ncclResult_t reductionColl(CollKind kind, const char* fn, const void* sendbuff, void* recvbuff,
                           size_t count, ncclDataType_t type, ncclRedOp_t op, int root,
                           ncclComm_t comm, cudaStream_t stream) {
  TCCL_CHECK(checkComm(comm, fn));
  TCCL_CHECK(checkDataType(type, fn));
  CollTask t;
  TCCL_CHECK(resolveRedOp(comm, op, type, fn, &t.spec));
  const size_t factor = kind == CollKind::kReduceScatter ? static_cast<size_t>(comm->nranks) : 1;
  TCCL_CHECK(checkCount(count, factor, type, fn));
  TCCL_CHECK(checkBuffer(sendbuff, count * factor, "sendbuff", fn));
  if (kind == CollKind::kReduce) {
    TCCL_CHECK(checkRank(comm, root, "root", fn));
    if (comm->rank == root) TCCL_CHECK(checkBuffer(recvbuff, count, "recvbuff", fn));
  } else {
    TCCL_CHECK(checkBuffer(recvbuff, count, "recvbuff", fn));
  }
  t.args = CollArgs{kind, sendbuff, recvbuff, count, root};
  t.stream = stream;
  return enqueueColl(comm, t);
}

ncclResult_t dataColl(CollKind kind, const char* fn, const void* sendbuff, void* recvbuff,
                      size_t count, ncclDataType_t type, int root, ncclComm_t comm,
                      cudaStream_t stream) {
  TCCL_CHECK(checkComm(comm, fn));
  TCCL_CHECK(checkDataType(type, fn));
  const size_t factor = kind == CollKind::kAllGather ? static_cast<size_t>(comm->nranks) : 1;
  TCCL_CHECK(checkCount(count, factor, type, fn));
  if (kind == CollKind::kBroadcast) {
    TCCL_CHECK(checkRank(comm, root, "root", fn));
    if (comm->rank == root) TCCL_CHECK(checkBuffer(sendbuff, count, "sendbuff", fn));
  } else {
    TCCL_CHECK(checkBuffer(sendbuff, count, "sendbuff", fn));
  }
  TCCL_CHECK(checkBuffer(recvbuff, count * factor, "recvbuff", fn));
  CollTask t;
  t.spec.type = type;
  t.args = CollArgs{kind, sendbuff, recvbuff, count, root};
  t.stream = stream;
  return enqueueColl(comm, t);
}

// AlltoAll, Gather and Scatter are point-to-point operations grouped together.
template <typename Fn>
ncclResult_t groupedP2p(Fn&& body) {
  TCCL_CHECK(groupStart());
  ncclResult_t res = body();
  ncclResult_t end = groupEnd();
  return res != ncclSuccess ? res : end;
}

ncclResult_t queueP2p(ncclComm_t comm, bool isSend, const void* buf, size_t count,
                      ncclDataType_t type, int peer, cudaStream_t stream,
                      std::shared_ptr<void> keepAlive = nullptr) {
  return enqueueP2p(comm, P2pTask{isSend, const_cast<void*>(buf), count, type, peer, stream,
                                  std::move(keepAlive)});
}

}  // namespace

NCCL_API(ncclResult_t, ncclAllReduce, const void* sendbuff, void* recvbuff, size_t count,
         ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count,
                           ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                           cudaStream_t stream) try {
  return finish(comm, reductionColl(CollKind::kAllReduce, "ncclAllReduce", sendbuff, recvbuff,
                                    count, datatype, op, 0, comm, stream));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclReduce, const void* sendbuff, void* recvbuff, size_t count,
         ncclDataType_t datatype, ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
                        ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream) try {
  return finish(comm, reductionColl(CollKind::kReduce, "ncclReduce", sendbuff, recvbuff, count,
                                    datatype, op, root, comm, stream));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclReduceScatter, const void* sendbuff, void* recvbuff, size_t recvcount,
         ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount,
                               ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                               cudaStream_t stream) try {
  return finish(comm, reductionColl(CollKind::kReduceScatter, "ncclReduceScatter", sendbuff,
                                    recvbuff, recvcount, datatype, op, 0, comm, stream));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclBroadcast, const void* sendbuff, void* recvbuff, size_t count,
         ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                           ncclDataType_t datatype, int root, ncclComm_t comm,
                           cudaStream_t stream) try {
  return finish(comm, dataColl(CollKind::kBroadcast, "ncclBroadcast", sendbuff, recvbuff, count,
                               datatype, root, comm, stream));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclBcast, void* buff, size_t count, ncclDataType_t datatype, int root,
         ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclBcast(void* buff, size_t count, ncclDataType_t datatype, int root, ncclComm_t comm,
                       cudaStream_t stream) try {
  return finish(comm, dataColl(CollKind::kBroadcast, "ncclBcast", buff, buff, count, datatype, root,
                               comm, stream));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclAllGather, const void* sendbuff, void* recvbuff, size_t sendcount,
         ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
                           ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream) try {
  return finish(comm, dataColl(CollKind::kAllGather, "ncclAllGather", sendbuff, recvbuff, sendcount,
                               datatype, 0, comm, stream));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclAlltoAll, const void* sendbuff, void* recvbuff, size_t count,
         ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclAlltoAll(const void* sendbuff, void* recvbuff, size_t count,
                          ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream) try {
  const char* fn = "ncclAlltoAll";
  auto body = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    TCCL_CHECK(checkDataType(datatype, fn));
    TCCL_CHECK(checkCount(count, comm->nranks, datatype, fn));
    TCCL_CHECK(checkBuffer(sendbuff, count, "sendbuff", fn));
    TCCL_CHECK(checkBuffer(recvbuff, count, "recvbuff", fn));
    const size_t bytes = count * dataTypeSize(datatype);
    std::shared_ptr<void> staged;
    if (sendbuff == recvbuff && count > 0) {
      // In place: the blocks we send would be overwritten by the ones we receive.
      TCCL_CHECK(comm->device->stageCopy(sendbuff, bytes * comm->nranks, stream, &staged));
      sendbuff = staged.get();
    }
    for (int peer = 0; peer < comm->nranks; ++peer) {
      TCCL_CHECK(queueP2p(comm, true, static_cast<const char*>(sendbuff) + peer * bytes, count,
                          datatype, peer, stream, staged));
      TCCL_CHECK(queueP2p(comm, false, static_cast<char*>(recvbuff) + peer * bytes, count, datatype,
                          peer, stream));
    }
    return ncclSuccess;
  };
  return finish(comm, groupedP2p(body));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclGather, const void* sendbuff, void* recvbuff, size_t count,
         ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclGather(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
                        int root, ncclComm_t comm, cudaStream_t stream) try {
  const char* fn = "ncclGather";
  auto body = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    TCCL_CHECK(checkDataType(datatype, fn));
    TCCL_CHECK(checkRank(comm, root, "root", fn));
    TCCL_CHECK(checkCount(count, comm->nranks, datatype, fn));
    TCCL_CHECK(checkBuffer(sendbuff, count, "sendbuff", fn));
    if (comm->rank == root) TCCL_CHECK(checkBuffer(recvbuff, count, "recvbuff", fn));
    TCCL_CHECK(queueP2p(comm, true, sendbuff, count, datatype, root, stream));
    if (comm->rank == root) {
      const size_t bytes = count * dataTypeSize(datatype);
      for (int peer = 0; peer < comm->nranks; ++peer)
        TCCL_CHECK(queueP2p(comm, false, static_cast<char*>(recvbuff) + peer * bytes, count,
                            datatype, peer, stream));
    }
    return ncclSuccess;
  };
  return finish(comm, groupedP2p(body));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclScatter, const void* sendbuff, void* recvbuff, size_t count,
         ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclScatter(const void* sendbuff, void* recvbuff, size_t count,
                         ncclDataType_t datatype, int root, ncclComm_t comm,
                         cudaStream_t stream) try {
  const char* fn = "ncclScatter";
  auto body = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    TCCL_CHECK(checkDataType(datatype, fn));
    TCCL_CHECK(checkRank(comm, root, "root", fn));
    TCCL_CHECK(checkCount(count, comm->nranks, datatype, fn));
    TCCL_CHECK(checkBuffer(recvbuff, count, "recvbuff", fn));
    if (comm->rank == root) {
      TCCL_CHECK(checkBuffer(sendbuff, count, "sendbuff", fn));
      const size_t bytes = count * dataTypeSize(datatype);
      for (int peer = 0; peer < comm->nranks; ++peer)
        TCCL_CHECK(queueP2p(comm, true, static_cast<const char*>(sendbuff) + peer * bytes, count,
                            datatype, peer, stream));
    }
    TCCL_CHECK(queueP2p(comm, false, recvbuff, count, datatype, root, stream));
    return ncclSuccess;
  };
  return finish(comm, groupedP2p(body));
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclSend, const void* sendbuff, size_t count, ncclDataType_t datatype,
         int peer, ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclSend(const void* sendbuff, size_t count, ncclDataType_t datatype, int peer,
                      ncclComm_t comm, cudaStream_t stream) try {
  const char* fn = "ncclSend";
  auto run = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    TCCL_CHECK(checkDataType(datatype, fn));
    TCCL_CHECK(checkRank(comm, peer, "peer", fn));
    TCCL_CHECK(checkCount(count, 1, datatype, fn));
    TCCL_CHECK(checkBuffer(sendbuff, count, "sendbuff", fn));
    return queueP2p(comm, true, sendbuff, count, datatype, peer, stream);
  };
  return finish(comm, run());
}
TCCL_API_CATCH

NCCL_API(ncclResult_t, ncclRecv, void* recvbuff, size_t count, ncclDataType_t datatype, int peer,
         ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclRecv(void* recvbuff, size_t count, ncclDataType_t datatype, int peer,
                      ncclComm_t comm, cudaStream_t stream) try {
  const char* fn = "ncclRecv";
  auto run = [&]() -> ncclResult_t {
    TCCL_CHECK(checkComm(comm, fn));
    TCCL_CHECK(checkDataType(datatype, fn));
    TCCL_CHECK(checkRank(comm, peer, "peer", fn));
    TCCL_CHECK(checkCount(count, 1, datatype, fn));
    TCCL_CHECK(checkBuffer(recvbuff, count, "recvbuff", fn));
    return queueP2p(comm, false, recvbuff, count, datatype, peer, stream);
  };
  return finish(comm, run());
}
TCCL_API_CATCH
