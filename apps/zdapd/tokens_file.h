// The tokens file (SPEC "Daemon": tokens_file): who may call the API. Only the sha256 of each
// token is stored, never the token:
//
//   # zdapd token add USER [--role admin]
//   3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea: {user: alice, role: user}
//
// Roles: `user` (their own clones), `admin` (everything), `replicator` (another origin that
// follows this one: the resource lists and snapshot streams, nothing else).
// Strict: a key that is not 64 lowercase hex digits, an unknown field, an unknown role, an
// invalid user name, a user or hash listed twice are errors with file:line.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace zdap::daemon {

using TokenDigest = std::array<unsigned char, 32>;  // sha256

enum class TokenRole { kUser, kAdmin, kReplicator };
const char* TokenRoleName(TokenRole role);  // "user", "admin", "replicator"
// False for anything but the three names.
bool ParseTokenRole(std::string_view name, TokenRole* out);

struct TokenEntry {
  TokenDigest digest{};
  std::string user;
  TokenRole role = TokenRole::kUser;
};

// sha256 of `token`.
TokenDigest DigestOf(std::string_view token);
std::string HexOf(const TokenDigest& digest);
// 32 random bytes from the OpenSSL CSPRNG as 64 lowercase hex characters.
Result<std::string> NewRandomToken();

// Parses the text of `file` (used in messages).
Result<std::vector<TokenEntry>> ParseTokensFile(const std::string& file, const std::string& text);
// Reads and parses `path`; a missing file is an error.
Result<std::vector<TokenEntry>> LoadTokensFile(const std::string& path);
// The file's text for `entries`, sorted by user.
std::string SerializeTokensFile(std::vector<TokenEntry> entries);

// `zdapd token add|list|remove` (SPEC "Daemon"). Each rewrites the file atomically, mode 0600.
// Adds USER with a new random token and returns the token (the only time it exists in clear).
// A file that does not exist is created; USER already listed is refused unless `replace`.
Result<std::string> AddToken(const std::string& path, const std::string& user, TokenRole role,
                             bool replace);
Status RemoveToken(const std::string& path, const std::string& user);

}  // namespace zdap::daemon
