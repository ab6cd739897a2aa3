// zdap-proxyd in clone-following mode against the real zdapd: psql through the proxy reaches
// the clone, and keeps reaching it after the clone was destroyed and created again under the
// same name on another port, and after the daemon restarted. The first origin is dead, so
// every answer also shows that the origins are tried in order.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "e2e/zdapd_fixture.h"
#include "proxy/net_helpers.h"

using namespace zdap::test;

namespace {

int CreateClone(ZdapdFixture& d, const std::string& name) {
  std::string body;
  int code = d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"" + name + "\"}", &body);
  INFO(body << d.LogText());
  REQUIRE(code == 201);
  return std::stoi(JsonField(body, "port"));
}

// psql through the proxy until it answers (each try is one new client connection, which is
// what makes the proxy find the clone again); bounded.
std::string CountThrough(uint16_t port, const std::string& password, std::chrono::seconds limit) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    out.clear();
    if (Psql(port, password, "select count(*) from invoice_line", &out) == 0) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "failed: " + out;
}

}  // namespace

TEST_CASE("zdap-proxyd --clone follows the clone across destroy/recreate and a daemon restart") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  int first_port = CreateClone(d, "followed");

  int holder = -1;
  uint16_t dead = DeadPort(&holder);
  ProxyProcess proxy;
  // The user comes from the environment, the origins from flags: both sources are read.
  REQUIRE(proxy.Start(
      {"--listen", "127.0.0.1:0", "--clone", "followed", "--origin",
       "http://127.0.0.1:" + std::to_string(dead), "--origin", d.Url(), "--retries", "4"},
      {"ZDAP_USER=alice"}));
  uint16_t port = proxy.WaitListening();
  INFO(proxy.output());
  REQUIRE(port != 0);
  CHECK(CountThrough(port, d.Password("followed"), std::chrono::seconds(30)) == "2240\n");
  CHECK(proxy.WaitOutput("clone followed is at 127.0.0.1:" + std::to_string(first_port),
                         std::chrono::milliseconds(5000)));

  // Destroyed and made again: zdapd hands out ports round-robin, so it moves.
  std::string body;
  REQUIRE(d.Call("DELETE", "/v1/clones/followed", "", &body) == 204);
  int second_port = CreateClone(d, "followed");
  REQUIRE(second_port != first_port);
  // The clone made again has a password of its own.
  std::string password = d.Password("followed");
  CHECK(CountThrough(port, password, std::chrono::seconds(30)) == "2240\n");
  CHECK(proxy.WaitOutput("clone followed is at 127.0.0.1:" + std::to_string(second_port),
                         std::chrono::milliseconds(5000)));

  // A change made through the proxy is in the clone itself.
  std::string out;
  REQUIRE(Psql(port, password, "create table followed_marker(x int)", &out) == 0);
  out.clear();
  Psql(second_port, password, "select count(*) from followed_marker", &out);
  CHECK(out == "0\n");

  // The daemon restarts (adopting the clone); the proxy keeps working through it.
  d.Kill(SIGTERM);
  d.Start();
  CHECK(CountThrough(port, password, std::chrono::seconds(30)) == "2240\n");

  // A clone nobody has: the client is refused (connection closed), the proxy stays up and
  // says why in its log.
  REQUIRE(d.Call("DELETE", "/v1/clones/followed", "", &body) == 204);
  out.clear();
  CHECK(Psql(port, password, "select 1", &out) != 0);
  CHECK(proxy.WaitOutput("clone 'followed' not found", std::chrono::milliseconds(10000)));
  CHECK(proxy.WaitOutput("Connection refused", std::chrono::milliseconds(1000)));

  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(std::chrono::milliseconds(15000)) == 0);
  ::close(holder);
}
