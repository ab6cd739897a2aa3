#include "api/requests.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <initializer_list>

#include "api/fields.h"
#include "api/json_reader.h"
#include "core/clone_password.h"
#include "core/names.h"
#include "core/time.h"

namespace json = boost::json;

namespace zdap::api {
namespace {

constexpr std::string_view kWhat = "request body";
// How much of a refused value an error shows.
constexpr size_t kShownChars = 40;

std::string DurationText(std::chrono::seconds d) {
  return d.count() == 0 ? "0" : FormatDuration(d);
}

// A body's fields, read strictly: a JSON object ("" is {}) with no key outside `allowed`.
class BodyReader {
 public:
  BodyReader(std::string_view body, std::initializer_list<const char*> allowed) {
    if (body.size() > kMaxRequestBodyBytes) {
      status_ = Status(Code::kTooLarge,
                       fmt::format("request body is larger than {} bytes", kMaxRequestBodyBytes));
      return;
    }
    if (!body.empty()) {
      auto v = ParseJson(body, kWhat, Code::kInvalidArgument);
      if (!v.ok()) {
        status_ = v.status();
        return;
      }
      value_ = std::move(v).value();
    }
    if (!value_.is_object()) {
      status_ = InvalidArgument("request body must be a JSON object");
      return;
    }
    for (const auto& kv : value_.as_object()) {
      bool known = false;
      for (const char* k : allowed) known = known || kv.key() == k;
      if (!known) {
        status_ = InvalidArgument(fmt::format("unknown field '{}' in the request body",
                                              std::string(kv.key()).substr(0, 64)));
        return;
      }
    }
    reader_.emplace(value_, kWhat, Code::kInvalidArgument);
  }

  void String(const char* key, std::string* out, bool required = false) {
    if (reader_) reader_->String(key, out, required);
  }
  void Bool(const char* key, bool* out) {
    if (reader_) reader_->Bool(key, out);
  }
  // A bool that may be absent (or null): set only when it is there.
  void OptionalBool(const char* key, std::optional<bool>* out) {
    bool b = false;
    Bool(key, &b);
    if (ok() && Present(key)) *out = b;
  }
  // A duration ("8h", "0"); absent, null and "" leave `out` unset.
  void Duration(const char* key, std::optional<std::chrono::seconds>* out) {
    std::string text;
    String(key, &text);
    if (!ok() || text.empty()) return;
    auto d = ParseDuration(text);
    if (!d.ok()) {
      return Fail(
          fmt::format("'{}' is '{}', not a duration: use a number and a unit, like 90s, "
                      "30m, 8h, 7d or 0",
                      key, text.substr(0, kShownChars)));
    }
    *out = *d;
  }
  // A clone's name; "" = none.
  void Name(const char* key, std::string* out) {
    String(key, out);
    if (ok() && !out->empty()) Check(ValidateName("clone", *out));
  }
  // A snapshot id; "" = none.
  void Snapshot(const char* key, std::string* out) {
    String(key, out);
    SnapshotId id;
    if (ok() && !out->empty()) Check(ParseSnapshotId(*out, &id));
  }
  // An owner-chosen password: absent and null leave "", any string must pass the check ("" too:
  // an empty password is no choice).
  void Password(const char* key, std::string* out) {
    String(key, out);
    if (ok() && Present(key)) Check(ValidateClonePassword(*out));
  }
  void Fail(const std::string& message) {
    if (reader_) reader_->Fail(message);
  }

  bool ok() const { return status().ok(); }
  const Status& status() const { return reader_ ? reader_->status() : status_; }

 private:
  bool Present(const char* key) const {
    const json::value* v = value_.as_object().if_contains(key);
    return v != nullptr && !v->is_null();
  }
  void Check(const Status& s) {
    if (!s.ok()) Fail(s.message());
  }

  json::value value_ = json::object();
  Status status_;                       // before the reader exists
  std::optional<ObjectReader> reader_;  // once the body is an object with known keys
};

}  // namespace

json::object ToJson(const CreateCloneRequest& r) {
  json::object o;
  if (!r.snapshot.empty()) o[field::kSnapshot] = r.snapshot;
  if (r.ttl) o[field::kTtl] = DurationText(*r.ttl);
  if (!r.name.empty()) o[field::kName] = r.name;
  if (r.is_protected) o[field::kProtected] = true;
  if (!r.password.empty()) o[field::kPassword] = r.password;
  return o;
}

json::object ToJson(const ClaimCloneRequest& r) {
  json::object o;
  if (r.ttl) o[field::kTtl] = DurationText(*r.ttl);
  if (!r.password.empty()) o[field::kPassword] = r.password;
  return o;
}

json::object ToJson(const UpdateCloneRequest& r) {
  json::object o;
  if (r.ttl) o[field::kTtl] = DurationText(*r.ttl);
  if (r.is_protected) o[field::kProtected] = *r.is_protected;
  return o;
}

json::object ToJson(const ResetCloneRequest& r) {
  json::object o;
  if (!r.snapshot.empty()) o[field::kSnapshot] = r.snapshot;
  return o;
}

Result<CreateCloneRequest> ParseCreateCloneRequest(std::string_view body) {
  using namespace field;
  BodyReader r(body, {kSnapshot, kTtl, kName, kProtected, kPassword});
  CreateCloneRequest out;
  r.Snapshot(kSnapshot, &out.snapshot);
  r.Duration(kTtl, &out.ttl);
  r.Name(kName, &out.name);
  r.Bool(kProtected, &out.is_protected);
  r.Password(kPassword, &out.password);
  if (!r.ok()) return r.status();
  return out;
}

Result<ClaimCloneRequest> ParseClaimCloneRequest(std::string_view body) {
  using namespace field;
  BodyReader r(body, {kTtl, kPassword});
  ClaimCloneRequest out;
  r.Duration(kTtl, &out.ttl);
  r.Password(kPassword, &out.password);
  if (!r.ok()) return r.status();
  return out;
}

Result<UpdateCloneRequest> ParseUpdateCloneRequest(std::string_view body) {
  using namespace field;
  BodyReader r(body, {kTtl, kProtected});
  UpdateCloneRequest out;
  r.Duration(kTtl, &out.ttl);
  r.OptionalBool(kProtected, &out.is_protected);
  if (!r.ok()) return r.status();
  if (!out.ttl && !out.is_protected) {
    return InvalidArgument("the request body changes nothing: give ttl and/or protected");
  }
  return out;
}

Result<ResetCloneRequest> ParseResetCloneRequest(std::string_view body) {
  BodyReader r(body, {field::kSnapshot});
  ResetCloneRequest out;
  r.Snapshot(field::kSnapshot, &out.snapshot);
  if (!r.ok()) return r.status();
  return out;
}

json::object ToJson(const SignInRequest& r) {
  return json::object{{field::kToken, r.token}};
}

json::object ToJson(const AddTokenRequest& r) {
  json::object o{{field::kUser, r.user}};
  if (r.admin) o[field::kRole] = "admin";
  if (r.replace) o[field::kReplace] = true;
  return o;
}

Result<SignInRequest> ParseSignInRequest(std::string_view body) {
  BodyReader r(body, {field::kToken});
  SignInRequest out;
  r.String(field::kToken, &out.token, /*required=*/true);
  if (!r.ok()) return r.status();
  return out;
}

Result<AddTokenRequest> ParseAddTokenRequest(std::string_view body) {
  BodyReader r(body, {field::kUser, field::kRole, field::kReplace});
  AddTokenRequest out;
  std::string role = "user";
  r.String(field::kUser, &out.user, /*required=*/true);
  r.String(field::kRole, &role);
  r.Bool(field::kReplace, &out.replace);
  if (r.ok() && role != "user" && role != "admin") {
    r.Fail(fmt::format("'role' is '{}': use user or admin", role.substr(0, kShownChars)));
  }
  if (!r.ok()) return r.status();
  out.admin = role == "admin";
  return out;
}

Status ParseEmptyRequest(std::string_view body) {
  return BodyReader(body, {}).status();
}

}  // namespace zdap::api
