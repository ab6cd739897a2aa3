// HttpUrl: the parts of an http:// or https:// URL that an HTTP client needs. Origins are
// written by people ("http://db1:43210/"), so parsing validates and normalises them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::net {

struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // name, IPv4 address, or IPv6 address without brackets
  uint16_t port = 0;   // explicit port, or 80 / 443 by scheme
  std::string path;    // path prefix without trailing '/', "" for the root

  bool tls() const { return scheme == "https"; }
  // "host:port", with brackets around an IPv6 host; used for the Host header.
  std::string HostPort() const;
  // Canonical form: "http://db1:43210" (+ path). Scheme and host in lower case, explicit
  // port always present. Two spellings of one origin have the same canonical form.
  std::string ToString() const;
};

// Parses an absolute http(s) URL. Refuses other schemes, a missing host, user info, a
// query or fragment, a port outside 1..65535, and what has no single meaning as an origin:
// percent-encoding in the host, an IPv6 zone, empty host labels ("db1."), a name that ends
// in a number but is no IPv4 address ("127.1"), and "." or ".." in the path; each with a
// message that says what is wrong. The canonical form (ToString) parses back to itself.
Result<HttpUrl> ParseHttpUrl(std::string_view text);

}  // namespace zdap::net
