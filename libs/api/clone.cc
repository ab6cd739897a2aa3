#include "api/clone.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"
#include "api/json_text.h"
#include "core/names.h"

namespace json = boost::json;

namespace zdap::api {

json::object ToJson(const Clone& c) {
  json::object o;
  o[field::kId] = c.id;
  o[field::kResource] = c.resource;
  o[field::kSnapshot] = c.snapshot;
  o[field::kOwner] = c.owner;
  o[field::kState] = c.state;
  o[field::kHost] = c.host;
  o[field::kPort] = c.port;
  o[field::kDatabase] = c.database;
  o[field::kUser] = c.user;
  o[field::kPassword] = c.password;
  o[field::kUri] = c.uri;
  o[field::kCreatedAt] = c.created_at;
  if (c.expires_at.empty()) {
    o[field::kExpiresAt] = nullptr;
  } else {
    o[field::kExpiresAt] = c.expires_at;
  }
  o[field::kProtected] = c.is_protected;
  o[field::kPooled] = c.pooled;
  o[field::kOrigin] = c.origin;
  o[field::kEngine] = c.engine;
  if (c.error.empty()) {
    o[field::kError] = nullptr;
  } else {
    o[field::kError] = c.error;
  }
  if (c.from_pool) o[field::kFromPool] = *c.from_pool;
  return o;
}

Result<Clone> CloneFromJson(const json::value& v) {
  ObjectReader r(v, "clone", Code::kUnprocessable);
  Clone c;
  int64_t port = 0;
  r.String(field::kId, &c.id, /*required=*/true);
  r.String(field::kResource, &c.resource);
  r.String(field::kSnapshot, &c.snapshot);
  r.String(field::kOwner, &c.owner);
  r.String(field::kState, &c.state);
  r.String(field::kHost, &c.host);
  r.Int(field::kPort, &port, false, 0, 65535);
  r.String(field::kDatabase, &c.database);
  r.String(field::kUser, &c.user);
  r.String(field::kPassword, &c.password);
  r.String(field::kUri, &c.uri);
  r.Time(field::kCreatedAt, &c.created_at);
  r.Time(field::kExpiresAt, &c.expires_at);
  r.Bool(field::kProtected, &c.is_protected);
  r.Bool(field::kPooled, &c.pooled);
  r.String(field::kOrigin, &c.origin);
  r.String(field::kEngine, &c.engine);
  r.String(field::kError, &c.error);
  if (const json::object* o = v.if_object();
      o != nullptr && o->contains(field::kFromPool) && !o->at(field::kFromPool).is_null()) {
    bool from_pool = false;
    r.Bool(field::kFromPool, &from_pool);
    c.from_pool = from_pool;
  }
  if (r.status().ok() && !IsValidName(c.id)) r.Fail("'id' is not a valid clone name");
  if (!r.status().ok()) return r.status();
  c.port = static_cast<int>(port);
  return c;
}

Result<Clone> ParseClone(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text, "the clone"));
  return CloneFromJson(v);
}

json::object CloneListToJson(const std::vector<Clone>& clones) {
  json::array a;
  for (const Clone& c : clones) a.push_back(ToJson(c));
  return json::object{{field::kClones, std::move(a)}};
}

namespace {

// The fields of ToJson(Clone), in its order.
void AppendCloneJson(const Clone& c, std::string* out) {
  bool first = true;
  auto key = [&](const char* k) {  // field names need no escaping
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(k);
    out->append("\":");
  };
  auto text = [&](const char* k, const std::string& v) {
    key(k);
    AppendJsonString(v, out);
  };
  auto text_or_null = [&](const char* k, const std::string& v) {
    if (v.empty()) {
      key(k);
      out->append("null");
    } else {
      text(k, v);
    }
  };
  auto flag = [&](const char* k, bool v) {
    key(k);
    out->append(v ? "true" : "false");
  };
  out->push_back('{');
  text(field::kId, c.id);
  text(field::kResource, c.resource);
  text(field::kSnapshot, c.snapshot);
  text(field::kOwner, c.owner);
  text(field::kState, c.state);
  text(field::kHost, c.host);
  key(field::kPort);
  out->append(std::to_string(c.port));
  text(field::kDatabase, c.database);
  text(field::kUser, c.user);
  text(field::kPassword, c.password);
  text(field::kUri, c.uri);
  text(field::kCreatedAt, c.created_at);
  text_or_null(field::kExpiresAt, c.expires_at);
  flag(field::kProtected, c.is_protected);
  flag(field::kPooled, c.pooled);
  text(field::kOrigin, c.origin);
  text(field::kEngine, c.engine);
  text_or_null(field::kError, c.error);
  if (c.from_pool) flag(field::kFromPool, *c.from_pool);
  out->push_back('}');
}

}  // namespace

std::string CloneListJsonText(const std::vector<Clone>& clones) {
  std::string out;
  // Most of an answer is the values; a clone's keys and punctuation take about 200 bytes.
  size_t size = 16;
  for (const Clone& c : clones) {
    size += 200 + c.id.size() + c.resource.size() + c.snapshot.size() + c.owner.size() +
            c.state.size() + c.host.size() + c.database.size() + c.user.size() + c.password.size() +
            c.uri.size() + c.created_at.size() + c.expires_at.size() + c.origin.size() +
            c.engine.size() + c.error.size();
  }
  out.reserve(size);
  out.append("{\"");
  out.append(field::kClones);
  out.append("\":[");
  for (size_t i = 0; i < clones.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendCloneJson(clones[i], &out);
  }
  out.append("]}");
  return out;
}

Result<std::vector<Clone>> ClonesFromJson(const json::array& a) {
  return ElementsOf(a, &CloneFromJson);
}

Result<std::vector<Clone>> ParseCloneList(std::string_view text) {
  return ParseListField(text, "the clone list", field::kClones, &CloneFromJson);
}

}  // namespace zdap::api
