// A transport that reaches up into the communicator. Compiled with the transport layer's
// include view, it must fail to build, and only on the core header: its own layer's header
// comes first and is found (tests/layers/CMakeLists.txt).
#include "transport/transport.h"

// The wrong include.
#include "core/communicator.h"
