// Where a container reaches a service on its own docker host.
//
// A clone the origin advertises on loopback (127.0.0.1) is on this machine, but 127.0.0.1 in
// the proxy container is the container itself. A container on a user-defined bridge (what
// compose creates) routes to the host through the bridge's gateway, and Linux accepts a
// packet for any of the host's own addresses on any interface, so the clone is reachable at
// one of this machine's non-loopback addresses when it listens there (zdapd `clone_bind:
// 0.0.0.0` or that address). `host-gateway` is not used: it needs the default bridge, which a
// dockerd with --bridge=none does not have.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace zdap::compose {

// The first IPv4 address of this machine, outside loopback and docker's own bridges
// (docker*, br-*, veth*), on which something accepts TCP connections on `port` (each tried
// with a short connect). NotFound when there is none.
Result<std::string> HostAddressServing(uint16_t port);

}  // namespace zdap::compose
