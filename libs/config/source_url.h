// `source.url`: a live server that a refresh dumps (SPEC "Resource file"), written as
// postgres://user@host:port/database or mysql:// (mariadb://). The URL carries no password:
// one in it would show in ps, logs and the job's messages; it comes from
// `source.password_file` (0600) instead.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::config {

struct SourceUrl {
  std::string family;    // "postgres" or "mysql" (the scheme's protocol)
  std::string user;      // "" = the client's default (postgres: the OS user; mysql: root)
  std::string host;      // name, IPv4 address, or IPv6 address without brackets
  int port = 0;          // explicit, or 5432 / 3306
  std::string database;  // "" = the resource's source.database
  // The URL again, without anything secret (it has none): for messages.
  std::string ToString() const;
};

// Parses a source URL. Refuses: another scheme; a password (with where to put it instead);
// a missing host; a port outside 1..65535; a query or fragment; percent-encoding; and user
// or database names outside [A-Za-z0-9_.$-]: each with what is wrong. At most 1000 bytes.
Result<SourceUrl> ParseSourceUrl(std::string_view text);

}  // namespace zdap::config
