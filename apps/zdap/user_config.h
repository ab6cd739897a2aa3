// The user's config (SPEC "CLI"): who they are and which origins they use, with tokens.
// Lives at ${ZDAP_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/zdap/config.yaml}, mode 0600,
// written atomically:
//
//   user: alice
//   origins:
//     - url: http://127.0.0.1:43210
//       token: s3cret          # optional
//       ca: /path/to/ca.pem    # optional, https: the CA that signed the origin's certificate
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace zdap::cli {

struct OriginEntry {
  std::string url;  // canonical form (net::HttpUrl::ToString)
  std::string token;
  std::string ca;  // absolute path of a PEM CA bundle; "" = system CAs only
};

struct UserConfig {
  std::string user;              // from the file, else the login name (then user_from_login)
  bool user_from_login = false;  // not written back: `zdap user set` makes it explicit
  std::vector<OriginEntry> origins;

  const OriginEntry* FindOrigin(const std::string& canonical_url) const;
};

// The path above, from the environment.
Result<std::string> UserConfigPath();

// The login name ($USER, else the password database) when it is a valid zdap name, else "".
std::string LoginName();

// A missing file is an empty config; a config without `user` gets the login name.
Result<UserConfig> LoadUserConfig(const std::string& path);
// Creates the directory (0700) if needed; the file is written 0600.
Status SaveUserConfig(const std::string& path, const UserConfig& config);

}  // namespace zdap::cli
