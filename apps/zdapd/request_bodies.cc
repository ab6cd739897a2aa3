#include "request_bodies.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"
#include "core/clone_password.h"
#include "core/time.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

// The body as an object ("" is {}), refusing keys outside `allowed`.
Result<json::value> BodyObject(std::string_view body, std::initializer_list<const char*> allowed) {
  if (body.empty()) return json::value(json::object());
  ZDAP_ASSIGN_OR_RETURN(json::value v,
                        api::ParseJson(body, "request body", Code::kInvalidArgument));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  for (const auto& kv : v.as_object()) {
    bool known = false;
    for (const char* k : allowed) known = known || kv.key() == k;
    if (!known) {
      return InvalidArgument(fmt::format("unknown field '{}' in the request body",
                                         std::string(kv.key()).substr(0, 64)));
    }
  }
  return v;
}

// A body's `password` unless absent or null (so "" too): the owner's choice, checked here so
// that a bad one is a 400 before anything is made.
Status CheckChosenPassword(const json::value& body) {
  const json::value* pw = body.as_object().if_contains(api::field::kPassword);
  if (pw == nullptr || pw->is_null()) return Status::Ok();
  return ValidateClonePassword(pw->as_string());  // a string: ObjectReader checked the type
}

}  // namespace

Result<origin::CreateCloneRequest> DecodeCreateClone(std::string_view resource,
                                                     std::string_view body) {
  using namespace api::field;
  ZDAP_ASSIGN_OR_RETURN(json::value v,
                        BodyObject(body, {kSnapshot, kTtl, kName, kProtected, kPassword}));
  api::ObjectReader r(v, "request body", Code::kInvalidArgument);
  origin::CreateCloneRequest req;
  req.resource = std::string(resource);
  std::string ttl;
  r.String(kSnapshot, &req.snapshot);
  r.String(kName, &req.name);
  r.String(kTtl, &ttl);
  r.Bool(kProtected, &req.is_protected);
  r.String(kPassword, &req.password);
  if (!r.status().ok()) return r.status();
  if (!ttl.empty()) {
    ZDAP_ASSIGN_OR_RETURN(req.ttl, ParseDuration(ttl));
  }
  ZDAP_RETURN_IF_ERROR(CheckChosenPassword(v));
  return req;
}

Result<ClaimRequest> DecodeClaim(std::string_view body) {
  using namespace api::field;
  ZDAP_ASSIGN_OR_RETURN(json::value v, BodyObject(body, {kTtl, kPassword}));
  api::ObjectReader r(v, "request body", Code::kInvalidArgument);
  std::string ttl;
  ClaimRequest out;
  r.String(kTtl, &ttl);
  r.String(kPassword, &out.password);
  if (!r.status().ok()) return r.status();
  if (!ttl.empty()) {
    ZDAP_ASSIGN_OR_RETURN(out.ttl, ParseDuration(ttl));
  }
  ZDAP_RETURN_IF_ERROR(CheckChosenPassword(v));
  return out;
}

Result<origin::UpdateCloneRequest> DecodeUpdateClone(std::string_view body) {
  using namespace api::field;
  ZDAP_ASSIGN_OR_RETURN(json::value v, BodyObject(body, {kTtl, kProtected}));
  api::ObjectReader r(v, "request body", Code::kInvalidArgument);
  std::string ttl;
  bool is_protected = false;
  r.String(kTtl, &ttl);
  r.Bool(kProtected, &is_protected);
  if (!r.status().ok()) return r.status();
  const json::object& o = v.as_object();
  origin::UpdateCloneRequest req;
  if (o.contains(kTtl)) {
    ZDAP_ASSIGN_OR_RETURN(req.ttl, ParseDuration(ttl));
  }
  if (o.contains(kProtected)) req.is_protected = is_protected;
  if (!req.ttl && !req.is_protected) {
    return InvalidArgument("the request body changes nothing: give ttl and/or protected");
  }
  return req;
}

Result<std::string> DecodeResetClone(std::string_view body) {
  using namespace api::field;
  ZDAP_ASSIGN_OR_RETURN(json::value v, BodyObject(body, {kSnapshot}));
  api::ObjectReader r(v, "request body", Code::kInvalidArgument);
  std::string snapshot;
  r.String(kSnapshot, &snapshot);
  if (!r.status().ok()) return r.status();
  return snapshot;
}

Status DecodeEmptyBody(std::string_view body) {
  return BodyObject(body, {}).status();
}

}  // namespace zdap::daemon
