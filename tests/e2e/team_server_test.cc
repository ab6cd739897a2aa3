// zdapd as a server a team shares (issue 9, acceptance 3 and 4, host commands over HTTPS):
// listening on 0.0.0.0 with a tokens file and TLS (a CA and server certificate made with
// openssl), reached only on 127.0.0.1 by curl, the zdap CLI, zdap-proxyd and the zdapd host
// commands, each verifying the certificate.
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "e2e/tls_helpers.h"
#include "e2e/zdapd_fixture.h"
#include "proxy/net_helpers.h"

using namespace zdap::test;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A daemon on 0.0.0.0:<port> with tokens for alice and bob (users) and root (admin), serving
// HTTPS with the certificate "one" (CA tmp/one-ca.pem); the resource is refreshed, not started.
struct TeamOrigin {
  TempDir tmp{"zdapd-team"};
  std::string cert, key, ca, config;
  ZdapdFixture d;

  TeamOrigin() {
    MakeCertificates(tmp.path(), "one");
    cert = tmp.path() + "/one.pem";
    key = tmp.path() + "/one.key";
    ca = tmp.path() + "/one-ca.pem";
    config = WriteFile(tmp.path() + "/zdapd.yaml", "tls: {cert: " + cert + ", key: " + key + "}\n");
    d.UseTokens({"alice", "bob"}, {"root"});
    d.SetListenHost("0.0.0.0");
    d.SetServeOptions({"--config", config}, "https", "--cacert " + ca);
    std::string out;
    int rc = d.Host("--config " + config + " refresh chinook", &out);
    INFO(out);
    REQUIRE(rc == 0);
  }

  // curl options: the CA and `user`'s Bearer token.
  std::string As(const std::string& user) const {
    return "--cacert " + ca + " -H 'Authorization: Bearer " + d.Token(user) + "'";
  }
};

// The ids in a {"clones":[...]} listing, with their owners: "id:owner,".
std::string IdsAndOwners(const std::string& listing) {
  boost::json::error_code ec;
  auto v = boost::json::parse(listing, ec);
  if (ec || !v.is_object() || !v.as_object().contains("clones")) return "unparsable: " + listing;
  std::string out;
  for (const auto& c : v.at("clones").as_array()) {
    out += std::string(c.at("id").as_string()) + ":" + std::string(c.at("owner").as_string()) + ",";
  }
  return out;
}

}  // namespace

TEST_CASE("team origin: 0.0.0.0 with tokens and TLS; 401s, per-user clones, admin ?all=1") {
  TeamOrigin t;
  t.d.Start();
  ZdapdFixture& d = t.d;
  CHECK(Contains(d.LogText(),
                 "zdapd listening on 0.0.0.0:" + std::to_string(d.api_port()) + " (https)"));
  const std::string url = d.Url();  // https://127.0.0.1:PORT
  int code;
  std::string body;

  // curl with the CA and a token: 200.
  CHECK(Curl(t.As("alice"), url + "/v1/clones", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(body == "{\"clones\":[]}\n");

  // No token, a wrong token, a malformed header: 401 with WWW-Authenticate: Bearer.
  for (const std::string& header :
       {std::string(""), std::string("-H 'Authorization: Bearer ") + std::string(64, 'f') + "'",
        std::string("-H 'Authorization: Basic YWxpY2U6eA=='")}) {
    std::string headers;
    REQUIRE(Shell("curl -s -m 20 --cacert " + t.ca + " -D - -o /dev/null " + header + " " + url +
                      "/v1/clones",
                  &headers) == 0);
    INFO(header << ": " << headers);
    CHECK(Contains(headers, "HTTP/1.1 401"));
    CHECK(Contains(headers, "WWW-Authenticate: Bearer"));
  }
  // X-Zdap-User is not an identity when there are tokens.
  CHECK(Curl("--cacert " + t.ca + " -H 'X-Zdap-User: alice'", url + "/v1/clones", &code, &body) ==
        0);
  CHECK(code == 401);

  // alice's clone: bob gets 404 on GET and DELETE, and it is not in his list.
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"a1\"}", &body, "alice") ==
          201);
  CHECK(Curl(t.As("bob"), url + "/v1/clones/a1", &code, &body) == 0);
  CHECK(code == 404);
  CHECK(Curl(t.As("bob") + " -X DELETE", url + "/v1/clones/a1", &code, &body) == 0);
  CHECK(code == 404);
  CHECK(Contains(body, "\"not_found\""));
  CHECK_FALSE(Contains(body, "alice"));
  CHECK(Curl(t.As("bob"), url + "/v1/clones", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(IdsAndOwners(body) == "");
  // ... and may not list everyone's.
  CHECK(Curl(t.As("bob"), url + "/v1/clones?all=1", &code, &body) == 0);
  CHECK(code == 403);
  // bob's DELETE lost nothing: alice still has her clone, and it answers with her password.
  CHECK(Curl(t.As("alice"), url + "/v1/clones", &code, &body) == 0);
  CHECK(IdsAndOwners(body) == "a1:alice,");
  REQUIRE(d.Call("GET", "/v1/clones/a1", "", &body, "alice") == 200);
  std::string out;
  CHECK(Psql(std::stoi(JsonField(body, "port")), JsonField(body, "password"),
             "select count(*) from invoice_line", &out) == 0);
  CHECK(out == "2240\n");

  // bob makes his own; the admin sees both with ?all=1, and only their own without it.
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"b1\"}", &body, "bob") == 201);
  CHECK(Curl(t.As("root"), url + "/v1/clones?all=1", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(IdsAndOwners(body) == "a1:alice,b1:bob,");
  CHECK(Curl(t.As("root"), url + "/v1/clones", &code, &body) == 0);
  CHECK(IdsAndOwners(body) == "");

  // Plain HTTP to the TLS port: a 400 that says so; the server keeps serving HTTPS.
  CHECK(Curl("", "http://127.0.0.1:" + std::to_string(d.api_port()) + "/v1/health", &code, &body) ==
        0);
  CHECK(code == 400);
  CHECK(Contains(body, "speaks HTTPS"));
  CHECK(Curl(t.As("alice"), url + "/v1/clones/a1", &code, &body) == 0);
  CHECK(code == 200);
  // The admin may act on anyone's clone.
  CHECK(Curl(t.As("root") + " -X DELETE", url + "/v1/clones/b1", &code, &body) == 0);
  CHECK(code == 204);
}

TEST_CASE("team origin: zdapd refuses 0.0.0.0 without tokens, and tls naming a missing file") {
  TempDir tmp("zdapd-team-refused");
  {
    ZdapdFixture d;
    d.SetListenHost("0.0.0.0");
    CHECK(d.StartExpectingExit(30) == 1);
    INFO(d.LogText());
    CHECK(Contains(d.LogText(), "needs a tokens file"));
  }
  {
    ZdapdFixture d;
    d.UseTokens({"alice"});
    d.SetListenHost("0.0.0.0");
    std::string missing = tmp.path() + "/missing.pem";
    MakeCertificates(tmp.path(), "one");
    std::string config =
        WriteFile(tmp.path() + "/zdapd.yaml",
                  "tls: {cert: " + missing + ", key: " + tmp.path() + "/one.key}\n");
    d.SetServeOptions({"--config", config}, "https");
    CHECK(d.StartExpectingExit(30) == 1);
    INFO(d.LogText());
    CHECK(Contains(d.LogText(), missing));
  }
}
