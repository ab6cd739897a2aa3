// OriginApiOptions: how a client program (the zdap CLI, zdap-proxyd) talks to its origins.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace zdap::client {

// How a program talks to its origins; the defaults are the CLI's.
struct OriginApiOptions {
  std::string ca_file;  // PEM CA bundle trusted beside the system CAs for https ("" = system)
  // Ends the error when an https origin's certificate does not verify ("" = the CLI's hint).
  std::string ca_hint;
  // Trust exactly this PEM certificate instead of any CA, whatever name it carries ("" = none):
  // zdapd's host commands reach their own daemon on 127.0.0.1 this way. Ends a mismatch error:
  // `pin_hint`.
  std::string pinned_cert_file;
  std::string pin_hint;
  // Ends a 401 error: how this program's user sets a token ("" = the CLI's hint).
  std::string token_hint;
  std::string user_agent;  // "" = "zdap/<version>"
  std::chrono::milliseconds connect_timeout{5000};
  // When set, no call waits longer than this for its reply (a proxy must not hang on a slow
  // origin); otherwise each call has its own deadline.
  std::optional<std::chrono::milliseconds> io_timeout_cap;
  size_t max_body_bytes = 64u << 20;
};

}  // namespace zdap::client
