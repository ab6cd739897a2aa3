// zdapd as a server a team shares (issue 9, acceptance 3 and 4, host commands over HTTPS):
// listening on 0.0.0.0 with a tokens file and TLS (a CA and server certificate made with
// openssl), reached only on 127.0.0.1 by curl, the zdap CLI, zdap-proxyd and the zdapd host
// commands, each verifying the certificate.
#include <signal.h>
#include <sys/stat.h>
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

std::string LastLine(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}

// A daemon on 0.0.0.0:<port> (clones on 0.0.0.0 too) with tokens for alice and bob (users) and
// root (admin), serving HTTPS with the certificate "one" (CA tmp/one-ca.pem); the resource is
// refreshed, not started.
struct TeamOrigin {
  TempDir tmp{"zdapd-team"};
  std::string cert, key, ca, config;
  std::string first_snapshot;  // made by the host command before the daemon starts
  ZdapdFixture d;

  TeamOrigin() {
    MakeCertificates(tmp.path(), "one");
    cert = tmp.path() + "/one.pem";
    key = tmp.path() + "/one.key";
    ca = tmp.path() + "/one-ca.pem";
    // Clones on every address too, as attach needs for the proxy container (reached here on
    // 127.0.0.1 only).
    config = WriteFile(tmp.path() + "/zdapd.yaml",
                       "tls: {cert: " + cert + ", key: " + key + "}\nclone_bind: 0.0.0.0\n");
    d.UseTokens({"alice", "bob"}, {"root"});
    d.SetListenHost("0.0.0.0");
    d.SetServeOptions({"--config", config}, "https", "--cacert " + ca);
    std::string out;
    int rc = d.Host("--config " + config + " refresh chinook", &out);
    INFO(out);
    REQUIRE(rc == 0);
    first_snapshot = LastLine(out);
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
  const std::string a1_password = JsonField(body, "password");
  REQUIRE(a1_password.size() >= 16);
  CHECK(Psql(std::stoi(JsonField(body, "port")), a1_password, "select count(*) from invoice_line",
             &out) == 0);
  CHECK(out == "2240\n");

  // bob makes his own; the admin sees both with ?all=1, and only their own without it.
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"b1\"}", &body, "bob") == 201);
  CHECK(Curl(t.As("root"), url + "/v1/clones?all=1", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(IdsAndOwners(body) == "a1:alice,b1:bob,");
  // SPEC: a password is given only to its owner; the admin's list has none (nor in a URI).
  CHECK_FALSE(Contains(body, a1_password));
  CHECK(Contains(body, "\"password\":\"\""));
  CHECK(Curl(t.As("root"), url + "/v1/clones/a1", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(JsonField(body, "password").empty());
  CHECK_FALSE(Contains(body, a1_password));
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

TEST_CASE("team origin: the zdap CLI and zdap-proxyd over verified HTTPS; a wrong CA is refused") {
  TeamOrigin t;
  t.d.Start();
  ZdapdFixture& d = t.d;
  MakeCertificates(t.tmp.path(), "other");  // a CA that did not sign the server's certificate
  TempDir project("zdap-team-project");
  REQUIRE(Shell("cp " + SourceDir() + "/compose-examples/chinook/docker-compose.yml " +
                project.path() + "/") == 0);
  auto zdap = [&](const std::string& args, std::string* out) {
    out->clear();
    return Shell("{ cd " + project.path() + " && ZDAP_CONFIG=" + project.path() + "/user.yaml " +
                     ProgramPath("apps/zdap/zdap") + " " + args + "; }",
                 out);
  };
  auto ok = [&](const std::string& args) {
    std::string out;
    int rc = zdap(args, &out);
    INFO("zdap " << args << ": " << out);
    REQUIRE(rc == 0);
    return out;
  };

  // The CLI: an https origin with its CA, resources listed, a clone attached that answers psql.
  ok("origin add " + d.Url() + " --token " + d.Token("alice") + " --ca " + t.ca);
  CHECK(Contains(ok("list resources"), "chinook"));
  ok("user set alice");  // the CLI asks for a user name even when the token says who it is
  ok("init");
  CHECK(Contains(ok("attach chinook --service db"), "attached chinook"));
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones", "", &body, "alice") == 200);
  auto clones = boost::json::parse(body).at("clones").as_array();
  REQUIRE(clones.size() == 1);
  std::string clone(clones[0].at("id").as_string());
  std::string password(clones[0].at("password").as_string());
  std::string out;
  CHECK(Psql(static_cast<int>(clones[0].at("port").as_int64()), password,
             "select count(*) from invoice_line", &out) == 0);
  CHECK(out == "2240\n");

  // zdap-proxyd following that clone over HTTPS with --ca (the token from a 0600 file).
  std::string token_file = WriteFile(t.tmp.path() + "/alice.token", d.Token("alice") + "\n");
  REQUIRE(::chmod(token_file.c_str(), 0600) == 0);
  {
    ProxyProcess proxy;
    REQUIRE(proxy.Start({"--listen", "127.0.0.1:0", "--clone", clone, "--origin", d.Url(), "--ca",
                         t.ca, "--token-file", token_file}));
    uint16_t port = proxy.WaitListening();
    INFO(proxy.output());
    REQUIRE(port != 0);
    out.clear();
    bool answered = Eventually(
        [&] {
          out.clear();
          return Psql(port, password, "select count(*) from invoice_line", &out) == 0;
        },
        std::chrono::seconds(30));
    CHECK(answered);
    CHECK(out == "2240\n");
    CHECK(
        proxy.WaitOutput("clone " + clone + " is at 127.0.0.1:", std::chrono::milliseconds(5000)));
    proxy.Signal(SIGTERM);
    CHECK(proxy.Wait(std::chrono::milliseconds(15000)) == 0);
  }

  // A CA that did not sign the certificate: one line that names the certificate problem.
  std::string other_ca = t.tmp.path() + "/other-ca.pem";
  ok("origin add " + d.Url() + " --ca " + other_ca);
  CHECK(zdap("list resources", &out) != 0);
  INFO(out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  CHECK(out.find('\n') == std::string::npos);
  CHECK(Contains(out, "certificate verify failed for " + d.Url()));
  CHECK(Contains(out, "unable to get local issuer certificate"));
  // The proxy with the wrong CA: the client is refused, the log says why.
  {
    ProxyProcess proxy;
    REQUIRE(proxy.Start({"--listen", "127.0.0.1:0", "--clone", clone, "--origin", d.Url(), "--ca",
                         other_ca, "--token-file", token_file}));
    uint16_t port = proxy.WaitListening();
    REQUIRE(port != 0);
    CHECK(Psql(port, password, "select 1", &out) != 0);
    CHECK(proxy.WaitOutput("certificate verify failed", std::chrono::milliseconds(10000)));
    INFO(proxy.output());
    proxy.Signal(SIGTERM);
    CHECK(proxy.Wait(std::chrono::milliseconds(15000)) == 0);
  }

  // The right CA again; detach destroys the clone over HTTPS.
  ok("origin add " + d.Url() + " --ca " + t.ca);
  ok("detach db");
  REQUIRE(d.Call("GET", "/v1/clones", "", &body, "alice") == 200);
  CHECK(body == "{\"clones\":[]}\n");
}

TEST_CASE("team origin: zdapd refresh and destroy reach the running daemon over HTTPS") {
  TeamOrigin t;
  t.d.Start();
  ZdapdFixture& d = t.d;
  REQUIRE_FALSE(t.first_snapshot.empty());
  std::string body;
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"h1\"}", &body, "alice") ==
          201);

  // The host commands read the same config (tls set, listen 0.0.0.0): https to 127.0.0.1,
  // trusting exactly tls.cert, whose names do not matter.
  std::string out;
  int rc = d.Host("--config " + t.config + " refresh chinook", &out);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(Contains(out, "started on the running zdapd"));
  std::string second = LastLine(out);
  CHECK(second != t.first_snapshot);
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body, "root") == 200);
  CHECK(Contains(body, t.first_snapshot));
  CHECK(Contains(body, second));

  rc = d.Host("--config " + t.config + " destroy h1", &out);
  REQUIRE(rc == 0);
  CHECK(Contains(out, "destroyed by the running zdapd"));
  CHECK(d.Call("GET", "/v1/clones/h1", "", &body, "alice") == 404);

  // A tls.cert that is not the one the daemon serves (same CA, same names): refused before any
  // request is sent, in one line that says what to do.
  MakeCertificates(t.tmp.path(), "other");
  std::string snapshots_before;
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &snapshots_before, "root") == 200);
  std::string other_config = WriteFile(
      t.tmp.path() + "/other.yaml",
      "tls: {cert: " + t.tmp.path() + "/other.pem, key: " + t.tmp.path() + "/other.key}\n");
  rc = d.Host("--config " + other_config + " refresh chinook", &out);
  INFO(out);
  CHECK(rc == 1);
  out = LastLine(out);
  CHECK(Contains(
      out, "certificate verify failed for https://127.0.0.1:" + std::to_string(d.api_port())));
  CHECK(Contains(out, "SIGHUP"));
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body, "root") == 200);
  CHECK(body == snapshots_before);  // no refresh was started
}
