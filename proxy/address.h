// Host and port pairs as written on zdap-proxyd's command line, in its environment and in its
// YAML file: targets ("db1:6003", "192.0.2.7:5432", "[fd00::7]:5432") and listen addresses
// (":5432", "5432", "127.0.0.1:5432", "[::1]:5432"). Parsing is strict and bounded: a host is at
// most 253 characters of [A-Za-z0-9._-] or a bracketed IPv6 literal, a port is 1..65535
// (0 is allowed only for listen addresses: "pick a free port"). Errors quote the input with
// Quote() (core/quote.h) so that hostile text never breaks the one-line error contract.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/quote.h"
#include "core/result.h"

namespace zdap::proxy {

struct HostPort {
  std::string host;  // without brackets; "" = every interface (listen addresses only)
  uint16_t port = 0;

  // "db1:6003", "[::1]:5432", ":5432".
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

Result<HostPort> ParseTarget(std::string_view text);
Result<HostPort> ParseListen(std::string_view text);
// A bare port "5432" (as in LISTEN_PORT); 0 allowed when allow_zero.
Result<uint16_t> ParsePort(std::string_view text, bool allow_zero);

}  // namespace zdap::proxy
