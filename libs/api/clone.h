// API v1's clone object (SPEC "Clone object"). zdapd maps its catalog record onto it; the
// CLI and the proxy read it with ParseClone. The bodies that ask for one are in requests.h.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace zdap::api {

struct Clone {
  std::string id;
  std::string resource;
  std::string snapshot;
  std::string owner;
  std::string state;  // creating | ready | failed | deleting (others are kept as sent)
  std::string host;
  int port = 0;  // 0..65535
  std::string database;
  std::string user;
  std::string password;
  std::string uri;
  std::string created_at;  // RFC 3339
  std::string expires_at;  // RFC 3339, "" = never (null on the wire)
  bool is_protected = false;
  bool pooled = false;
  std::string origin;
  std::string engine;
  std::string error;  // why the clone is failed; "" (null on the wire) otherwise
  // Only in the answer to a claim (absent elsewhere): true when a ready pool clone was handed
  // over, false when the pool had none ready and the clone was created for the claim (it
  // took a create's time).
  std::optional<bool> from_pool;
};

boost::json::object ToJson(const Clone& clone);
// Requires "id" (a valid name); every other field is optional but typed.
Result<Clone> CloneFromJson(const boost::json::value& v);
Result<Clone> ParseClone(std::string_view text);
// {"clones": [...]}
boost::json::object CloneListToJson(const std::vector<Clone>& clones);
// The same text as boost::json::serialize(CloneListToJson(clones)), written directly: the
// answer of GET /v1/clones, kept cheap for hundreds of clones.
std::string CloneListJsonText(const std::vector<Clone>& clones);
Result<std::vector<Clone>> ParseCloneList(std::string_view text);
// The elements of a "clones" array (used by the resource parser too).
Result<std::vector<Clone>> ClonesFromJson(const boost::json::array& a);

}  // namespace zdap::api
