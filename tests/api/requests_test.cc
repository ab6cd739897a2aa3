// libs/api's request bodies (api/requests.h): what the clients write, zdapd reads back the same;
// the readers refuse unknown fields, wrong types, bad durations, names, snapshot ids and
// passwords, malformed, oversized and hostile bodies, each with a 400 that names the field
// (413 for a body over the limit), and never echo more than a little of what was sent.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "api/json_reader.h"
#include "api/requests.h"

namespace json = boost::json;
using namespace std::chrono_literals;

namespace zdap {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

template <typename Request>
Request RoundTrip(const Request& r, Result<Request> (*parse)(std::string_view)) {
  auto back = parse(json::serialize(api::ToJson(r)));
  INFO(json::serialize(api::ToJson(r)));
  REQUIRE(back.ok());
  return *back;
}

const Status& StatusOf(const Status& s) {
  return s;
}
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// A body refused with InvalidArgument whose message contains `says`.
template <typename Parse>
void CheckRefused(Parse parse, const std::string& body, const std::string& says) {
  INFO(body.substr(0, 200));
  Status st = StatusOf(parse(body));
  REQUIRE_FALSE(st.ok());
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(Contains(st.message(), says));
  // Errors are one line that does not carry the whole of a long value.
  CHECK(st.message().find('\n') == std::string::npos);
  CHECK(st.message().size() < 400);
}

}  // namespace

TEST_CASE("api requests: what a client writes, zdapd reads back the same") {
  api::CreateCloneRequest create;
  CHECK(json::serialize(api::ToJson(create)) == "{}");
  CHECK(RoundTrip(create, &api::ParseCreateCloneRequest) == create);
  create.snapshot = "chinook@20261122T030405Z";
  create.ttl = 90min;
  create.name = "mine-1";
  create.is_protected = true;
  create.password = "Replica.pass_word~0123-xyz";
  CHECK(RoundTrip(create, &api::ParseCreateCloneRequest) == create);
  // Durations travel in their canonical form; 0 ("never") as "0".
  CHECK(json::serialize(api::ToJson(api::ClaimCloneRequest{48h, ""})) == R"({"ttl":"2d"})");
  CHECK(json::serialize(api::ToJson(api::UpdateCloneRequest{0s, false})) ==
        R"({"ttl":"0","protected":false})");
  for (auto ttl : {0s, 1s, 90s, 3600s, 86400s + 1s, std::chrono::seconds(100LL * 365 * 86400)}) {
    INFO(ttl.count());
    api::UpdateCloneRequest u{ttl, std::nullopt};
    CHECK(RoundTrip(u, &api::ParseUpdateCloneRequest) == u);
    api::ClaimCloneRequest c{ttl, "0123456789abcdef"};
    CHECK(RoundTrip(c, &api::ParseClaimCloneRequest) == c);
  }
  api::UpdateCloneRequest unprotect{std::nullopt, false};
  CHECK(RoundTrip(unprotect, &api::ParseUpdateCloneRequest) == unprotect);
  api::ResetCloneRequest reset{"chinook@20261101T000000Z"};
  CHECK(RoundTrip(reset, &api::ParseResetCloneRequest) == reset);
  CHECK(RoundTrip(api::ResetCloneRequest{}, &api::ParseResetCloneRequest).snapshot.empty());
}

TEST_CASE("api requests: absent, null and empty fields") {
  // "" is {}; null is absent.
  auto c = api::ParseCreateCloneRequest("");
  REQUIRE(c.ok());
  CHECK(*c == api::CreateCloneRequest{});
  c = api::ParseCreateCloneRequest(
      R"({"snapshot":null,"ttl":null,"name":null,"protected":null,"password":null})");
  REQUIRE(c.ok());
  CHECK(*c == api::CreateCloneRequest{});
  // An empty snapshot, ttl or name is no choice (today's clients sent "snapshot":"").
  c = api::ParseCreateCloneRequest(R"({"snapshot":"","ttl":"","name":""})");
  REQUIRE(c.ok());
  CHECK(*c == api::CreateCloneRequest{});
  // An empty password is a bad password, not none.
  CheckRefused(&api::ParseCreateCloneRequest, R"({"password":""})", "has 0 characters");
  CHECK(api::ParseEmptyRequest("").ok());
  CHECK(api::ParseEmptyRequest("{}").ok());
  CHECK(api::ParseEmptyRequest(" { } ").ok());
  // A PATCH must change something; a null protected is no change.
  CheckRefused(&api::ParseUpdateCloneRequest, "{}", "changes nothing");
  CheckRefused(&api::ParseUpdateCloneRequest, "", "changes nothing");
  CheckRefused(&api::ParseUpdateCloneRequest, R"({"protected":null})", "changes nothing");
  CheckRefused(&api::ParseUpdateCloneRequest, R"({"ttl":""})", "changes nothing");
  auto u = api::ParseUpdateCloneRequest(R"({"protected":false})");
  REQUIRE(u.ok());
  CHECK(u->is_protected == false);
  CHECK_FALSE(u->ttl);
}

TEST_CASE("api requests: unknown fields, wrong types and bad values are refused by name") {
  CheckRefused(&api::ParseCreateCloneRequest, R"({"nmae":"x"})", "unknown field 'nmae'");
  CheckRefused(&api::ParseCreateCloneRequest, R"({"name":"x","owner":"bob"})",
               "unknown field 'owner'");
  CheckRefused(&api::ParseClaimCloneRequest, R"({"name":"x"})", "unknown field 'name'");
  CheckRefused(&api::ParseUpdateCloneRequest, R"({"ttl":"1h","owner":"bob"})",
               "unknown field 'owner'");
  CheckRefused(&api::ParseResetCloneRequest, R"({"ttl":"1h"})", "unknown field 'ttl'");
  CheckRefused(&api::ParseEmptyRequest, R"({"x":1})", "unknown field 'x'");
  // A long unknown key is cut in the message.
  CheckRefused(&api::ParseEmptyRequest, "{\"" + std::string(5000, 'k') + "\":1}",
               "unknown field 'kkkk");

  CheckRefused(&api::ParseCreateCloneRequest, R"({"ttl":5})", "'ttl' must be a string");
  CheckRefused(&api::ParseCreateCloneRequest, R"({"protected":"yes"})",
               "'protected' must be true or false");
  CheckRefused(&api::ParseCreateCloneRequest, R"({"name":["x"]})", "'name' must be a string");
  CheckRefused(&api::ParseCreateCloneRequest, R"({"snapshot":{}})", "'snapshot' must be a string");
  CheckRefused(&api::ParseUpdateCloneRequest, R"({"protected":1})",
               "'protected' must be true or false");
  CheckRefused(&api::ParseResetCloneRequest, R"({"snapshot":7})", "'snapshot' must be a string");

  CheckRefused(&api::ParseCreateCloneRequest, R"({"ttl":"8x"})", "'ttl' is '8x', not a duration");
  CheckRefused(&api::ParseUpdateCloneRequest, R"({"ttl":"-1h"})", "not a duration");
  CheckRefused(&api::ParseClaimCloneRequest, R"({"ttl":"101y"})", "not a duration");
  CheckRefused(&api::ParseClaimCloneRequest, R"({"ttl":"99999999999999999999h"})",
               "not a duration");
  CheckRefused(&api::ParseUpdateCloneRequest, "{\"ttl\":\"" + std::string(2000, '9') + "h\"}",
               "not a duration");
  for (const char* name : {"../etc", "Upper", "-x", "a b", "x/y", "\u00e9t\u00e9"}) {
    CheckRefused(&api::ParseCreateCloneRequest, json::serialize(json::object{{"name", name}}),
                 "clone name");
  }
  CheckRefused(&api::ParseCreateCloneRequest, "{\"name\":\"" + std::string(64, 'a') + "\"}",
               "is not valid");
  for (const char* snap : {"chinook@x", "chinook", "../x@20261101T000000Z", "@", "c@2026"}) {
    CheckRefused(&api::ParseResetCloneRequest, json::serialize(json::object{{"snapshot", snap}}),
                 "is not valid");
  }
  CheckRefused(&api::ParseClaimCloneRequest, R"({"password":"short'"})", "has 6 characters");
  CheckRefused(&api::ParseClaimCloneRequest, R"({"password":"aaaaaaaaaaaaaaaa b"})",
               "not allowed at position 17");
}

TEST_CASE("api requests: malformed, oversized and hostile bodies") {
  for (std::string bad : std::vector<std::string>{
           "{", "[]", "null", "\"x\"", "7", "{\"ttl\":\"1h\",}", "{\"ttl\":\"1h\"}x", "{}{}",
           std::string("{\"ttl\":\"1\0h\"}", 13), "\xff\xfe", "{'ttl':'1h'}"}) {
    INFO(bad);
    auto r = api::ParseClaimCloneRequest(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(Contains(r.status().message(), "request body"));
  }
  // Nesting deeper than the parser's limit: refused by the parser, not by the stack.
  std::string deep = "{\"ttl\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CheckRefused(&api::ParseClaimCloneRequest, deep, "not valid JSON");
  // A body over the limit is TooLarge (413), whatever it holds.
  std::string big = "{\"name\":\"" + std::string(api::kMaxRequestBodyBytes, 'a') + "\"}";
  auto r = api::ParseCreateCloneRequest(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kTooLarge);
  CHECK(Contains(r.status().message(), "larger than 1048576 bytes"));
  // One string over kMaxStringChars inside the limit.
  CheckRefused(&api::ParseCreateCloneRequest,
               "{\"snapshot\":\"" + std::string(api::kMaxStringChars + 1, 's') + "\"}",
               "'snapshot' is longer than");
  // The same key twice: whichever the parser keeps is checked.
  CheckRefused(&api::ParseCreateCloneRequest, R"({"name":"../x","name":"../y"})", "clone name");
  // Control characters and quotes in a value are refused, not passed on.
  CheckRefused(&api::ParseCreateCloneRequest, R"({"name":"a\"; rm -rf /"})", "clone name");
  CheckRefused(&api::ParseCreateCloneRequest, R"({"password":"aaaaaaaaaaaaaaaa\u0000"})",
               "not allowed");
}

}  // namespace zdap

namespace zdap {

TEST_CASE("api requests: the dashboard's sign-in and the token API's add (issue 24)") {
  api::SignInRequest sign_in{"0123456789abcdef0123456789abcdef"};
  CHECK(RoundTrip(sign_in, &api::ParseSignInRequest) == sign_in);
  api::AddTokenRequest add{"carol", false, false};
  CHECK(json::serialize(api::ToJson(add)) == R"({"user":"carol"})");
  CHECK(RoundTrip(add, &api::ParseAddTokenRequest) == add);
  add = {"root", true, true};
  CHECK(json::serialize(api::ToJson(add)) == R"({"user":"root","role":"admin","replace":true})");
  CHECK(RoundTrip(add, &api::ParseAddTokenRequest) == add);
  auto user = api::ParseAddTokenRequest(R"({"user":"dave","role":"user","replace":null})");
  REQUIRE(user.ok());
  CHECK_FALSE(user->admin);

  CheckRefused(&api::ParseSignInRequest, "", "'token'");
  CheckRefused(&api::ParseSignInRequest, R"({"token":7})", "'token' must be a string");
  CheckRefused(&api::ParseSignInRequest, R"({"token":"x","user":"alice"})", "unknown field 'user'");
  CheckRefused(&api::ParseSignInRequest,
               "{\"token\":\"" + std::string(api::kMaxStringChars + 1, 't') + "\"}",
               "'token' is longer than");
  CheckRefused(&api::ParseSignInRequest, "[\"token\"]", "request body");
  CheckRefused(&api::ParseAddTokenRequest, "{}", "'user'");
  CheckRefused(&api::ParseAddTokenRequest, R"({"user":"x","role":"root"})",
               "'role' is 'root': use user or admin");
  CheckRefused(&api::ParseAddTokenRequest, R"({"user":"x","role":true})",
               "'role' must be a string");
  CheckRefused(&api::ParseAddTokenRequest, R"({"user":"x","replace":"yes"})",
               "'replace' must be true or false");
  CheckRefused(&api::ParseAddTokenRequest, R"({"user":"x","admin":true})", "unknown field 'admin'");
  auto big = api::ParseSignInRequest("{\"token\":\"" + std::string(api::kMaxRequestBodyBytes, 't') +
                                     "\"}");
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == Code::kTooLarge);
}

}  // namespace zdap
