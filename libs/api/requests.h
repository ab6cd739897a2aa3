// API v1's request bodies (SPEC "HTTP API v1"): what the CLI and the proxy send (ToJson) and
// zdapd reads (Parse*), next to the response objects so that both sides share one schema.
//
// The readers are strict where the response readers are tolerant: a body is a JSON object of at
// most kMaxRequestBodyBytes ("" reads as {}); an unknown field is refused (a typo must not pass
// silently), and so is a field of the wrong type, a string over kMaxStringChars, a malformed
// duration, name, snapshot id or password. Every error is InvalidArgument (400) naming the
// field, except a body over the limit (TooLarge, 413). Null counts as absent. For every request
// r the writers produce, Parse(ToJson(r)) gives r back.
#pragma once

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::api {

// Larger bodies are refused with 413; the transport stops reading there too.
inline constexpr size_t kMaxRequestBodyBytes = 1u << 20;

// POST /v1/resources/{resource}/clones (the resource is the path's).
struct CreateCloneRequest {
  std::string snapshot;                     // a snapshot id; "" = the resource's newest
  std::optional<std::chrono::seconds> ttl;  // absent: the resource's default
  std::string name;                         // a valid name; "" = chosen by the origin
  bool is_protected = false;
  // The owner's choice (core/clone_password.h); "" = a random one. `attach --replicas` gives
  // every replica the first one's.
  std::string password;

  bool operator==(const CreateCloneRequest&) const = default;
};

// POST /v1/resources/{resource}/claim: a ready pool clone, now the caller's.
struct ClaimCloneRequest {
  std::optional<std::chrono::seconds> ttl;  // absent: the resource's default
  std::string password;                     // as for a create

  bool operator==(const ClaimCloneRequest&) const = default;
};

// PATCH /v1/clones/{id} (extend, protect): only what is set changes; at least one is.
struct UpdateCloneRequest {
  std::optional<std::chrono::seconds> ttl;  // a new expiry this long from now; 0 = never
  std::optional<bool> is_protected;

  bool operator==(const UpdateCloneRequest&) const = default;
};

// POST /v1/clones/{id}/reset.
struct ResetCloneRequest {
  std::string snapshot;  // a snapshot id; "" = the resource's newest

  bool operator==(const ResetCloneRequest&) const = default;
};

// POST /ui/session: an API token exchanged for the dashboard's session cookie.
struct SignInRequest {
  std::string token;  // required
  bool operator==(const SignInRequest&) const = default;
};

// POST /v1/tokens (admins): a token for `user`, printed once.
struct AddTokenRequest {
  std::string user;      // required
  bool admin = false;    // "role": "user" (the default) or "admin"
  bool replace = false;  // a user who has a token gets a new one (the old one stops working)
  bool operator==(const AddTokenRequest&) const = default;
};

boost::json::object ToJson(const CreateCloneRequest& request);
boost::json::object ToJson(const ClaimCloneRequest& request);
boost::json::object ToJson(const UpdateCloneRequest& request);
boost::json::object ToJson(const ResetCloneRequest& request);
boost::json::object ToJson(const SignInRequest& request);
boost::json::object ToJson(const AddTokenRequest& request);

Result<CreateCloneRequest> ParseCreateCloneRequest(std::string_view body);
Result<ClaimCloneRequest> ParseClaimCloneRequest(std::string_view body);
// Refuses a body that changes nothing.
Result<UpdateCloneRequest> ParseUpdateCloneRequest(std::string_view body);
Result<ResetCloneRequest> ParseResetCloneRequest(std::string_view body);
Result<SignInRequest> ParseSignInRequest(std::string_view body);
Result<AddTokenRequest> ParseAddTokenRequest(std::string_view body);
// A body that must carry no fields ("" or {}): POST /v1/clones/{id}/snapshot and
// POST /v1/resources/{resource}/snapshots.
Status ParseEmptyRequest(std::string_view body);

}  // namespace zdap::api
