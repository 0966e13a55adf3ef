// The control of transport_includes_core.cc: the same view, a header of the transport layer
// itself (which includes device/, plan/ and base/ headers in turn). It must build.
#include "transport/connection.h"
