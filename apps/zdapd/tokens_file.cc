#include "tokens_file.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "config/yaml_reader.h"
#include "core/file_util.h"
#include "core/names.h"

namespace zdap::daemon {
namespace {

constexpr size_t kMaxTokensFileBytes = 4u << 20;

bool ParseHexDigest(std::string_view hex, TokenDigest* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

const char* TokenRoleName(TokenRole role) {
  switch (role) {
    case TokenRole::kAdmin:
      return "admin";
    case TokenRole::kReplicator:
      return "replicator";
    case TokenRole::kUser:
      break;
  }
  return "user";
}

bool ParseTokenRole(std::string_view name, TokenRole* out) {
  for (TokenRole r : {TokenRole::kUser, TokenRole::kAdmin, TokenRole::kReplicator}) {
    if (name == TokenRoleName(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

TokenDigest DigestOf(std::string_view token) {
  TokenDigest d{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d.data());
  return d;
}

std::string HexOf(const TokenDigest& digest) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (unsigned char b : digest) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

Result<std::string> NewRandomToken() {
  TokenDigest bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Internal("the OpenSSL random generator failed");
  }
  std::string token = HexOf(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

Result<std::vector<TokenEntry>> ParseTokensFile(const std::string& file, const std::string& text) {
  ZDAP_ASSIGN_OR_RETURN(YAML::Node root, config::ParseYaml(file, text));
  std::vector<TokenEntry> out;
  if (!root || root.IsNull()) return out;  // an empty file: nobody may call yet
  if (!root.IsMap()) {
    return InvalidArgument(
        fmt::format("{}:{}: the tokens file must map sha256 hex digests to {{user, role}}", file,
                    root.Mark().line + 1));
  }
  std::set<std::string> users;
  std::set<TokenDigest> digests;
  for (const auto& kv : root) {
    int line = kv.first.Mark().line + 1;
    if (!kv.first.IsScalar()) {
      return InvalidArgument(fmt::format("{}:{}: a key is not a sha256 hex digest", file, line));
    }
    std::string hex = kv.first.Scalar();
    TokenEntry e;
    if (!ParseHexDigest(hex, &e.digest)) {
      return InvalidArgument(
          fmt::format("{}:{}: '{}' is not a sha256 digest (64 lowercase hex characters); "
                      "add tokens with `zdapd token add USER`",
                      file, line, hex.substr(0, 80)));
    }
    config::MapReader entry(file, kv.second, hex.substr(0, 12) + "...");
    ZDAP_RETURN_IF_ERROR(entry.CheckIsMap());
    std::string role;
    ZDAP_RETURN_IF_ERROR(entry.GetString("user", &e.user, /*required=*/true));
    ZDAP_RETURN_IF_ERROR(entry.GetString("role", &role, /*required=*/true));
    ZDAP_RETURN_IF_ERROR(entry.CheckNoUnknownKeys({"user", "role"}));
    if (e.user == "zdapd") {
      return entry.ErrorAt("user", "'zdapd' is reserved for the host admin token");
    }
    if (!IsValidName(e.user)) {
      return entry.ErrorAt("user", fmt::format("'{}' is not a valid user name", e.user));
    }
    if (!ParseTokenRole(role, &e.role)) {
      return entry.ErrorAt("role",
                           fmt::format("'{}' is not a role: admin, user or replicator", role));
    }
    if (!users.insert(e.user).second) {
      return InvalidArgument(fmt::format("{}:{}: user '{}' is listed twice", file, line, e.user));
    }
    if (!digests.insert(e.digest).second) {
      return InvalidArgument(fmt::format("{}:{}: this digest is listed twice", file, line));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<TokenEntry>> LoadTokensFile(const std::string& path) {
  auto text = ReadFile(path, kMaxTokensFileBytes);
  if (!text.ok()) return text.status().Wrap("tokens file");
  return ParseTokensFile(path, *text);
}

std::string SerializeTokensFile(std::vector<TokenEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const TokenEntry& a, const TokenEntry& b) { return a.user < b.user; });
  std::string out =
      "# zdapd tokens: sha256 of each token -> user and role. Edit with `zdapd token "
      "add|remove`.\n";
  for (const TokenEntry& e : entries) {
    out +=
        fmt::format("{}: {{user: {}, role: {}}}\n", HexOf(e.digest), e.user, TokenRoleName(e.role));
  }
  return out;
}

Result<std::string> AddToken(const std::string& path, const std::string& user, TokenRole role,
                             bool replace) {
  ZDAP_RETURN_IF_ERROR(ValidateName("user", user));
  if (user == "zdapd") return InvalidArgument("'zdapd' is reserved for the host admin token");
  std::vector<TokenEntry> entries;
  if (PathExists(path)) {
    ZDAP_ASSIGN_OR_RETURN(entries, LoadTokensFile(path));
  }
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const TokenEntry& e) { return e.user == user; });
  if (it != entries.end() && !replace) {
    return Conflict(
        fmt::format("user '{}' already has a token; use --replace to give them a new one", user));
  }
  if (it != entries.end()) entries.erase(it);
  ZDAP_ASSIGN_OR_RETURN(std::string token, NewRandomToken());
  entries.push_back(TokenEntry{DigestOf(token), user, role});
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(path, SerializeTokensFile(entries), 0600));
  return token;
}

Status RemoveToken(const std::string& path, const std::string& user) {
  ZDAP_ASSIGN_OR_RETURN(auto entries, LoadTokensFile(path));
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const TokenEntry& e) { return e.user == user; });
  if (it == entries.end()) {
    return NotFound(fmt::format("user '{}' has no token in {}", user.substr(0, 64), path));
  }
  entries.erase(it);
  return WriteFileAtomic(path, SerializeTokensFile(entries), 0600);
}

}  // namespace zdap::daemon
