// The control of transport_includes_core.cc: the same view, a header of the transport layer
// itself, which includes headers of the layers below (base/, plan/). It must build.
#include "transport/transport.h"
