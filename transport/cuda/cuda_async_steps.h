// AsyncSteps for the cuda backend: a host buffer becomes reachable by its steps through
// cudaHostRegister (pinned and mapped), and a publication runs as a host function on the
// backend's stream, so it follows the copy or kernel that filled or drained the slot without
// the proxy ever waiting on the GPU. The net transport uses this to stage GPU data.
#pragma once

#include <memory>

#include "transport/async_steps.h"

namespace tccl {

class CudaBackend;

// `device` must outlive the returned object.
std::shared_ptr<AsyncSteps> makeCudaAsyncSteps(CudaBackend& device);

}  // namespace tccl
