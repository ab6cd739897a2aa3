// The one rule for hosts in listen and bind settings ("0.0.0.0:43210", clone_bind, a proxy's
// --listen) as seen by a client on this same machine: a wildcard address means "every
// interface", which a client cannot connect to; it reaches such a server on loopback.
#pragma once

#include <string>
#include <string_view>

namespace zdap {

// "", "*", "0.0.0.0", "::" and "[::]": every interface.
bool IsWildcardHost(std::string_view host);

// Where a client on this machine connects to reach a server listening on `listen_host`: for a
// wildcard the loopback address of the same family ("::" and "[::]" -> "::1", the others ->
// "127.0.0.1"; an IPv6 wildcard socket may be IPv6-only, so "::1" is the one that always
// answers), otherwise `listen_host` itself. Brackets are the caller's: the result is a bare host.
std::string LocalConnectHost(std::string_view listen_host);

// "localhost", 127.0.0.0/8 and ::1 (also written as [::1] or 0:0:0:0:0:0:0:1).
bool IsLoopbackHost(std::string_view host);

}  // namespace zdap
