// zdap-proxyd's configuration: flags, environment, YAML; malformed, oversized and hostile input.
#include <algorithm>
#include <catch2/catch.hpp>

#include "core/time.h"
#include "proxy/address.h"
#include "proxy/clone_resolver.h"
#include "proxy/config.h"
#include "proxy/net_helpers.h"
#include "support/test_env.h"

using namespace zdap;
using namespace zdap::proxy;

namespace {

Result<ProxyConfig> Parse(std::vector<std::string> args, EnvironmentVariables env = {}) {
  return ParseCommandLine(args, env);
}

std::string ErrorOf(std::vector<std::string> args, EnvironmentVariables env = {}) {
  auto r = Parse(std::move(args), std::move(env));
  if (r.ok()) return "";
  return r.status().message();
}

bool OneLine(const std::string& s) {
  return s.find('\n') == std::string::npos;
}

}  // namespace

TEST_CASE("target and listen addresses") {
  auto t = ParseTarget("db1:6003");
  REQUIRE(t.ok());
  CHECK(t->host == "db1");
  CHECK(t->port == 6003);
  t = ParseTarget("[fd00::7]:5432");
  REQUIRE(t.ok());
  CHECK(t->host == "fd00::7");
  CHECK(t->ToString() == "[fd00::7]:5432");
  CHECK(ParseTarget("192.0.2.3:1")->port == 1);
  CHECK(ParseTarget("a-b.c_d:65535")->port == 65535);

  auto l = ParseListen(":5432");
  REQUIRE(l.ok());
  CHECK(l->host.empty());
  CHECK(l->port == 5432);
  CHECK(ParseListen("5432")->port == 5432);
  CHECK(ParseListen("127.0.0.1:0")->port == 0);
  CHECK(ParseListen("[::1]:5432")->host == "::1");

  for (const char* bad : {"",
                          "db1",
                          "db1:",
                          ":5432",
                          "db1:0",
                          "db1:65536",
                          "db1:99999999999",
                          "db1:54x",
                          "db1:-1",
                          "db1:+5",
                          "::1:5432",
                          "[::1]5432",
                          "[::1:5432",
                          "[zz]:1",
                          "[]:1",
                          "-db:1",
                          ".db:1",
                          "db 1:2",
                          "db\n:2",
                          "db;rm -rf:1",
                          "db1:5432 ",
                          " db1:5432",
                          "db1:５４３２"}) {
    INFO(bad);
    auto r = ParseTarget(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(OneLine(r.status().message()));
  }
  for (const char* bad : {"", ":", "x", ":-1", ":65536", "[::1]", "[]:1", "db 1:1", "1.2.3.4:"}) {
    INFO(bad);
    CHECK_FALSE(ParseListen(bad).ok());
  }
  CHECK_FALSE(ParseTarget(std::string(254, 'a') + ":1").ok());
  CHECK(ParseTarget(std::string(253, 'a') + ":1").ok());
}

TEST_CASE("the proxy's durations are milliseconds up to a day (core/time.h kTimeoutDuration)") {
  auto ms = [](std::string_view text) { return ParseDuration(text, kTimeoutDuration); };
  CHECK(ms("500ms")->count() == 500);
  CHECK(ms("2s")->count() == 2000);
  CHECK(ms("1m30s")->count() == 90000);
  CHECK(ms("1h")->count() == 3600000);
  CHECK(ms("1d")->count() == 86400000);
  CHECK(ms("0")->count() == 0);
  for (const char* bad : {"", "5", "-1s", "1.5s", "s", "1x", "1sms", "25h", "99999999999999s",
                          "1s ", "ms", "00000000000000000000000000000000001s", "2d"}) {
    INFO(bad);
    CHECK_FALSE(ms(bad).ok());
  }
  CHECK(FormatDurationMillis(std::chrono::milliseconds(1500)) == "1500ms");
  CHECK(FormatDurationMillis(std::chrono::milliseconds(2000)) == "2s");
  CHECK(ErrorOf({"--listen", ":1", "--target", "a:1", "--check-interval", "1.5s"}) ==
        "--check-interval: '1.5s' is not a duration: use a number and a unit, like 500ms, 2s, 1m "
        "or 0");
}

TEST_CASE("flags make one listener") {
  auto c = Parse({"--listen",
                  ":5432",
                  "--target",
                  "db1:6003",
                  "--target=db2:6011",
                  "--balance",
                  "roundrobin",
                  "--check",
                  "postgres",
                  "--check-interval",
                  "500ms",
                  "--connect-timeout=1s",
                  "--idle-timeout",
                  "0",
                  "--retries",
                  "3",
                  "--metrics",
                  ":9187",
                  "--rise",
                  "1",
                  "--fall",
                  "2",
                  "--threads",
                  "2"});
  REQUIRE(c.ok());
  REQUIRE(c->listeners.size() == 1);
  const ListenerConfig& l = c->listeners[0];
  CHECK(l.listen.port == 5432);
  REQUIRE(l.targets.size() == 2);
  CHECK(l.targets[1].ToString() == "db2:6011");
  CHECK(l.balance == Balance::kRoundRobin);
  CHECK(l.check.kind == CheckKind::kPostgres);
  CHECK(l.check.interval.count() == 500);
  CHECK(l.check.rise == 1);
  CHECK(l.check.fall == 2);
  CHECK(l.connect_timeout.count() == 1000);
  CHECK(l.idle_timeout.count() == 0);
  CHECK(l.retries == 3);
  REQUIRE(c->metrics.has_value());
  CHECK(c->metrics->port == 9187);
  CHECK(c->threads == 2);
}

TEST_CASE("environment: LISTEN_PORT, TARGET_ADDRESS and ZDAP_*; flags win") {
  auto c = Parse({}, {{"LISTEN_PORT", "5432"}, {"TARGET_ADDRESS", "a:1, b:2,c:3"}});
  REQUIRE(c.ok());
  CHECK(c->listeners[0].listen.port == 5432);
  REQUIRE(c->listeners[0].targets.size() == 3);
  CHECK(c->listeners[0].targets[1].ToString() == "b:2");

  c = Parse({"--target", "x:9"}, {{"ZDAP_LISTEN", "127.0.0.1:7000"},
                                  {"TARGET_ADDRESS", "a:1,b:2"},
                                  {"ZDAP_BALANCE", "leastconn"},
                                  {"ZDAP_CONNECT_TIMEOUT", "250ms"},
                                  {"ZDAP_UNRELATED", "whatever"}});
  REQUIRE(c.ok());
  CHECK(c->listeners[0].listen.ToString() == "127.0.0.1:7000");
  REQUIRE(c->listeners[0].targets.size() == 1);  // the flag replaces the env list
  CHECK(c->listeners[0].targets[0].ToString() == "x:9");
  CHECK(c->listeners[0].balance == Balance::kLeastConn);
  CHECK(c->listeners[0].connect_timeout.count() == 250);

  c = Parse({}, {{"ZDAP_LISTEN", ":1"}, {"ZDAP_TARGET", "a:1,b:2"}, {"LISTEN_PORT", "2"}});
  REQUIRE(c.ok());
  CHECK(c->listeners[0].listen.port == 1);  // ZDAP_LISTEN beats LISTEN_PORT
  CHECK(c->listeners[0].targets.size() == 2);

  CHECK(ErrorOf({}, {{"LISTEN_PORT", "5432"}, {"TARGET_ADDRESS", "a:1,,b:2"}})
            .find("TARGET_ADDRESS") != std::string::npos);
  CHECK(ErrorOf({}, {{"LISTEN_PORT", "70000"}, {"TARGET_ADDRESS", "a:1"}}).find("LISTEN_PORT") !=
        std::string::npos);
  CHECK(ErrorOf({"--listen", ":1", "--target", "a:1"}, {{"ZDAP_RETRIES", "many"}})
            .find("ZDAP_RETRIES") != std::string::npos);
}

TEST_CASE("malformed command lines are one-line errors") {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  std::vector<Case> cases = {
      {{}, "--listen"},
      {{"--listen", ":5432"}, "--target"},
      {{"--target", "db:1"}, "--listen"},
      {{"--listen", ":5432", "--target"}, "needs a value"},
      {{"--listen", ":99999", "--target", "db:1"}, "--listen"},
      {{"--listen", ":5432", "--target", "db"}, "--target"},
      {{"--listen", ":5432", "--target", "db:1", "--balance", "fastest"}, "--balance"},
      {{"--listen", ":5432", "--target", "db:1", "--check", "http"}, "--check"},
      {{"--listen", ":5432", "--target", "db:1", "--retries", "-1"}, "--retries"},
      {{"--listen", ":5432", "--target", "db:1", "--retries", "1000"}, "--retries"},
      {{"--listen", ":5432", "--target", "db:1", "--connect-timeout", "0"}, "--connect-timeout"},
      {{"--listen", ":5432", "--target", "db:1", "--connect-timeout", "2"}, "--connect-timeout"},
      {{"--listen", ":5432", "--target", "db:1", "--listen", ":5433"}, "more than once"},
      {{"--listen", ":5432", "--target", "db:1", "--bogus", "1"}, "unknown flag"},
      {{"--listen", ":5432", "--target", "db:1", "stray"}, "unexpected argument"},
      {{"--lis", ":5432", "--target", "db:1"}, "unknown flag"},
      {{"-l", ":5432"}, "unexpected argument"},
      {{"--listen", ":5432", "--target", "db:1", "--log-level", "loud"}, "--log-level"},
      {{"--listen", ":5432", "--target", "db:1", "--config", "/nonexistent/x.yaml"}, "--config"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (auto& a : c.args) joined += a + " ";
    INFO(joined);
    std::string err = ErrorOf(c.args);
    CHECK_FALSE(err.empty());
    CHECK(OneLine(err));
    CHECK(err.find(c.mentions) != std::string::npos);
  }
}

TEST_CASE("hostile and oversized input is refused with short messages") {
  std::string huge(1 << 20, 'a');
  std::string err = ErrorOf({"--listen", ":5432", "--target", huge + ":1"});
  CHECK_FALSE(err.empty());
  CHECK(err.size() < 300);

  err = ErrorOf({"--listen", ":5432", "--target", std::string("db\n\x1b[31m\0:1", 12)});
  CHECK_FALSE(err.empty());
  CHECK(OneLine(err));
  CHECK(err.find('\x1b') == std::string::npos);

  std::vector<std::string> many = {"--listen", ":5432"};
  for (int i = 0; i < 200; ++i) {
    many.push_back("--target");
    many.push_back("db:" + std::to_string(i + 1));
  }
  err = ErrorOf(many);
  CHECK_FALSE(err.empty());
  CHECK(err.size() < 300);

  EnvironmentVariables env{{"LISTEN_PORT", "5432"}, {"TARGET_ADDRESS", std::string(100000, ',')}};
  err = ErrorOf({}, env);
  CHECK_FALSE(err.empty());
  CHECK(err.size() < 300);

  std::string list;
  for (int i = 0; i < 65; ++i) list += "h:" + std::to_string(i + 1) + ",";
  list.pop_back();
  err = ErrorOf({}, {{"LISTEN_PORT", "1"}, {"TARGET_ADDRESS", list}});
  CHECK(err.find("more than 64") != std::string::npos);

  // Binary garbage in every flag's value: a value with a byte outside printable ASCII is
  // refused with a one-line message, and nothing crashes.
  uint64_t seed = 42;
  int refused = 0;
  for (int i = 0; i < 500; ++i) {
    std::string junk(1 + i % 40, '\0');
    test::FillRandom(&seed, junk.data(), junk.size());
    bool printable = true;
    for (char c : junk) printable = printable && c > 0x20 && c < 0x7f;
    for (const char* flag : {"--listen", "--target", "--balance", "--retries", "--check-interval",
                             "--metrics", "--threads"}) {
      auto r = Parse({"--listen", ":1", "--target", "a:1", flag, junk});
      INFO(flag << " " << Quote(junk));
      if (!printable) CHECK(!r.ok());
      if (!r.ok()) {
        ++refused;
        CHECK(OneLine(r.status().message()));
      }
    }
  }
  CHECK(refused >= 3000);  // nearly all of the 3500: random bytes are rarely printable
}

TEST_CASE("every flag in --help is readable as ZDAP_<FLAG>, as --help says") {
  std::string usage = Usage();
  CHECK(usage.find("Every other flag can also be set as ZDAP_<FLAG>") != std::string::npos);
  std::vector<std::string> flags;
  for (size_t at = usage.find("  --"); at != std::string::npos; at = usage.find(" --", at + 1)) {
    size_t begin = usage.find("--", at) + 2;
    size_t end = usage.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", begin);
    std::string flag = usage.substr(begin, end - begin);
    if (flag != "help" && flag != "version" &&
        std::find(flags.begin(), flags.end(), flag) == flags.end()) {
      flags.push_back(flag);
    }
  }
  CHECK(flags.size() >= 20);
  // The same (bad) value as a flag and as ZDAP_<FLAG>: both refused, each naming its source,
  // or both accepted.
  for (const std::string& flag : flags) {
    std::string env_name = "ZDAP_";
    for (char c : flag) env_name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
    if (flag == "config") env_name = "ZDAP_PROXY_CONFIG";  // ZDAP_CONFIG is the CLI's file
    INFO(flag << " / " << env_name);
    // Each flag next to what it needs, and never given twice.
    std::vector<std::string> base = {"--listen", ":1", "--target", "a:1"};
    if (flag == "listen") base = {"--target", "a:1"};
    if (flag == "target") base = {"--listen", ":1"};
    if (flag == "clone") base = {"--listen", ":1", "--origin", "http://a:1"};
    if (flag == "origin") base = {"--listen", ":1", "--clone", "c1"};
    if (flag == "token" || flag == "token-file" || flag == "user" || flag == "ca") {
      base = {"--listen", ":1", "--clone", "c1", "--origin", "http://a:1"};
    }
    auto by_flag = Parse([&] {
      auto a = base;
      a.push_back("--" + flag);
      a.push_back("?bad");
      return a;
    }());
    auto by_env = Parse(base, {{env_name, "?bad"}});
    REQUIRE(by_flag.ok() == by_env.ok());
    if (!by_flag.ok() && by_flag.status().message().find("--" + flag) != std::string::npos) {
      CHECK(by_env.status().message().find("env " + env_name) != std::string::npos);
    }
  }
  // The older names documented before still work; two names that disagree are refused.
  auto older = Parse({"--listen", ":1", "--clone", "c1"}, {{"ZDAP_ORIGINS", "http://a:1"}});
  REQUIRE(older.ok());
  CHECK(older->listeners.at(0).clone->origins == std::vector<std::string>{"http://a:1"});
  CHECK(Parse({"--listen", ":1", "--clone", "c1"},
              {{"ZDAP_ORIGIN", "http://a:1"}, {"ZDAP_ORIGINS", "http://a:1"}})
            .ok());
  CHECK(ErrorOf({"--listen", ":1", "--clone", "c1"},
                {{"ZDAP_ORIGIN", "http://a:1"}, {"ZDAP_ORIGINS", "http://b:1"}}) ==
        "env ZDAP_ORIGIN and env ZDAP_ORIGINS disagree: set one of them");
  // ZDAP_PROXY_CONFIG names the proxy's file; ZDAP_CONFIG is the CLI's (a shell that runs both,
  // like scripts/quickstart, exports it) and is never read as the proxy's.
  test::TempDir dir("proxy-env-config");
  std::string yaml = dir.path() + "/proxy.yaml";
  REQUIRE(test::Shell("printf 'listen: \":7\"\\ntargets: [a:1]\\n' > " + yaml) == 0);
  std::string cli_yaml = dir.path() + "/cli.yaml";
  REQUIRE(test::Shell("printf 'origins:\\n  - url: http://a:1\\n' > " + cli_yaml) == 0);
  auto by_config = Parse({}, {{"ZDAP_PROXY_CONFIG", yaml}, {"ZDAP_CONFIG", cli_yaml}});
  REQUIRE(by_config.ok());
  CHECK(by_config->listeners.at(0).listen.port == 7);
  auto beside_cli = Parse({"--listen", ":8", "--target", "a:1"}, {{"ZDAP_CONFIG", cli_yaml}});
  REQUIRE(beside_cli.ok());
  CHECK(beside_cli->listeners.at(0).listen.port == 8);
  CHECK(ErrorOf({}, {{"ZDAP_PROXY_CONFIG", dir.path() + "/missing.yaml"}})
            .find("env ZDAP_PROXY_CONFIG") != std::string::npos);
}

TEST_CASE("YAML file with several listeners") {
  test::TempDir dir;
  std::string path = dir.path() + "/proxy.yaml";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(R"(metrics: "127.0.0.1:9187"
drain_timeout: 3s
listeners:
  - name: pg
    listen: ":5432"
    targets: [db1:6003, db2:6011]
    balance: first
    check: {kind: postgres, interval: 2s, rise: 1}
    retries: 1
  - listen: ":3306"
    targets: "my1:3306,my2:3306"
    balance: leastconn
    check: mysql
    idle_timeout: 1h
)",
               f);
    std::fclose(f);
  }
  auto c = Parse({"--config", path});
  REQUIRE(c.ok());
  REQUIRE(c->listeners.size() == 2);
  CHECK(c->listeners[0].name == "pg");
  CHECK(c->listeners[0].targets.size() == 2);
  CHECK(c->listeners[0].check.kind == CheckKind::kPostgres);
  CHECK(c->listeners[0].check.interval.count() == 2000);
  CHECK(c->listeners[0].check.rise == 1);
  CHECK(c->listeners[0].retries == 1);
  CHECK(c->listeners[1].name == ":3306");
  CHECK(c->listeners[1].targets[1].ToString() == "my2:3306");
  CHECK(c->listeners[1].balance == Balance::kLeastConn);
  CHECK(c->listeners[1].check.kind == CheckKind::kMysql);
  CHECK(c->listeners[1].idle_timeout.count() == 3600000);
  CHECK(c->drain_timeout.count() == 3000);
  CHECK(c->metrics->port == 9187);

  // Flags add a listener and override globals.
  c = Parse({"--config", path, "--listen", ":6000", "--target", "x:1", "--drain-timeout", "1s"});
  REQUIRE(c.ok());
  CHECK(c->listeners.size() == 3);
  CHECK(c->drain_timeout.count() == 1000);
}

TEST_CASE("YAML errors name the file, line and key") {
  ProxyConfig c;
  Status st = ParseYamlConfig(
      "listeners:\n  - listen: \":1\"\n    targets: [a:1]\n    balanse: x\n", "p.yaml", &c);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("p.yaml:4") != std::string::npos);
  CHECK(st.message().find("balanse") != std::string::npos);

  CHECK(st.message() ==
        "p.yaml:4: listeners[0].balanse: not a known key (the keys are the "
        "flags of --help, in snake_case)");

  ProxyConfig c2;
  st = ParseYamlConfig("listen: \":1\"\ntargets: [a:1]\nretries: [1, 2]\n", "p.yaml", &c2);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "p.yaml:3: retries: expected a string");

  // The same reader as zdapd's files (config/yaml_reader.h): wrong types and bad values are
  // refused with file, line and key.
  ProxyConfig c3;
  st = ParseYamlConfig(
      "listeners:\n  - listen: \":1\"\n    targets: [a:1]\n"
      "    check: {kind: tcp, interval: 1.5s}\n",
      "p.yaml", &c3);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().rfind("p.yaml:4: listeners[0].check.interval", 0) == 0);
  CHECK(st.message().find("'1.5s' is not a duration") != std::string::npos);
  ProxyConfig c4;
  st = ParseYamlConfig("listeners:\n  - listen: \":1\"\n    targets: {a: 1}\n", "p.yaml", &c4);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "p.yaml:3: listeners[0].targets: expected a string");
  ProxyConfig c5;
  st = ParseYamlConfig("metrics: [a]\n", "p.yaml", &c5);
  CHECK(st.message() == "p.yaml:1: metrics: expected a string");
  ProxyConfig c6;
  st = ParseYamlConfig(std::string("listen: \":1\"\n\x01\x1b[2J: x\n"), "p.yaml", &c6);
  REQUIRE_FALSE(st.ok());
  CHECK(OneLine(st.message()));
  CHECK(st.message().find('\x1b') == std::string::npos);

  for (const char* bad : {"[", "listeners: 3", "listeners: [1]", "listen: {a: b}", "- a\n- b",
                          "listeners:\n  - listen: ':1'\n", "targets: [a:1]\n", "*x", "!!binary x",
                          "listen: ':1'\ntargets: []\n", "metrics: 'nope'"}) {
    INFO(bad);
    ProxyConfig cc;
    Status s = ParseYamlConfig(bad, "p.yaml", &cc);
    if (s.ok()) {
      // Accepted only if it left nothing usable behind; ParseCommandLine then refuses it.
      CHECK(cc.listeners.empty());
    } else {
      CHECK(OneLine(s.message()));
    }
  }
}

TEST_CASE("the binary: usage errors exit 2 with one line on stderr") {
  std::string out;
  int rc = test::Shell(test::ProxyBinary() + " --listen :5432 --target nope", &out);
  CHECK(rc == 2);
  CHECK(out.rfind("zdap-proxyd: ", 0) == 0);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);

  out.clear();
  rc = test::Shell("env -i LISTEN_PORT=5432 " + test::ProxyBinary(), &out);
  CHECK(rc == 2);
  CHECK(out.find("TARGET_ADDRESS") != std::string::npos);

  out.clear();
  rc = test::Shell(test::ProxyBinary() + " --help", &out);
  CHECK(rc == 0);
  CHECK(out.find("--balance") != std::string::npos);
}

TEST_CASE("clone-following mode from flags, environment and YAML") {
  auto c = Parse({"--listen", ":5432", "--clone", "chinook-7f3a", "--origin", "HTTP://DB1:43210/",
                  "--origin", "https://db2:43210"},
                 {{"ZDAP_TOKEN", "s3cret"}, {"ZDAP_USER", "alice"}});
  REQUIRE(c.ok());
  const ListenerConfig& l = c->listeners.at(0);
  REQUIRE(l.clone);
  CHECK(l.clone->id == "chinook-7f3a");
  CHECK(l.clone->origins == std::vector<std::string>{"http://db1:43210", "https://db2:43210"});
  CHECK(l.clone->token == "s3cret");
  CHECK(l.clone->user == "alice");
  CHECK(l.targets.empty());
  CHECK(l.check.kind == CheckKind::kNone);

  c = Parse({"--listen", ":5432"},
            {{"ZDAP_CLONE", "c1"}, {"ZDAP_ORIGINS", "http://a:1,http://b:2"}});
  REQUIRE(c.ok());
  CHECK(c->listeners.at(0).clone->origins.size() == 2);

  // Token from a file: its first line.
  test::TempDir dir("proxy-token");
  std::string file = dir.path() + "/token";
  REQUIRE(test::Shell("printf 'from-file\\nsecond' > " + file) == 0);
  c = Parse({"--listen", ":1", "--clone", "c1", "--origin", "http://a:1", "--token-file", file});
  REQUIRE(c.ok());
  CHECK(c->listeners.at(0).clone->token == "from-file");

  // ZDAP_USER/ZDAP_TOKEN set for the CLI do not disturb a static-target proxy.
  CHECK(Parse({"--listen", ":1", "--target", "a:2"}, {{"ZDAP_USER", "bob"}}).ok());

  CHECK(ErrorOf({"--listen", ":1", "--clone", "c1"}).find("needs --origin") != std::string::npos);
  CHECK(ErrorOf({"--listen", ":1", "--clone", "c1", "--origin", "http://a:1", "--target", "b:2"})
            .find("exclude each other") != std::string::npos);
  CHECK(ErrorOf({"--listen", ":1", "--clone", "Bad_Name", "--origin", "http://a:1"})
            .find("not a clone name") != std::string::npos);
  CHECK(ErrorOf({"--listen", ":1", "--clone", "c1", "--origin", "ftp://a:1"}).find("--origin") !=
        std::string::npos);
  CHECK(ErrorOf({"--listen", ":1", "--clone", "c1", "--origin", "http://a:1", "--token-file",
                 dir.path() + "/missing"})
            .find("cannot be read") != std::string::npos);
  std::string e = ErrorOf({"--listen", ":1", "--target", "a:2", "--origin", "http://a:1"});
  CHECK(e.find("--origin needs --clone") != std::string::npos);
  CHECK(OneLine(e));

  ProxyConfig y;
  REQUIRE(ParseYamlConfig("listeners:\n"
                          "  - listen: \":5432\"\n"
                          "    clone: c2\n"
                          "    origins: [\"http://a:1\", \"http://b:2\"]\n"
                          "    user: carol\n",
                          "p.yaml", &y)
              .ok());
  REQUIRE(y.listeners.at(0).clone);
  CHECK(y.listeners.at(0).clone->id == "c2");
  CHECK(y.listeners.at(0).clone->user == "carol");
  CHECK(y.listeners.at(0).clone->origins.size() == 2);
  ProxyConfig bad;
  CHECK(ParseYamlConfig("listeners:\n  - listen: \":1\"\n    clone: c2\n", "p.yaml", &bad)
            .message()
            .find("needs --origin") != std::string::npos);
}

TEST_CASE("the clone object's host and port") {
  auto a = ParseCloneAddress(R"({"id":"c","host":"127.0.0.1","port":6003,"state":"ready"})");
  REQUIRE(a.ok());
  CHECK(a->ToString() == "127.0.0.1:6003");
  a = ParseCloneAddress(R"({"id":"c","host":"::1","port":6003})");
  REQUIRE(a.ok());
  CHECK(a->ToString() == "[::1]:6003");
  for (const char* bad : {"", "[]", "{}", R"({"host":"h"})", R"({"host":"h","port":0})",
                          R"({"host":"h","port":"6003"})", R"({"host":"a b","port":1})",
                          R"({"host":"h","port":70000})"}) {
    INFO(bad);
    CHECK_FALSE(ParseCloneAddress(bad).ok());
  }
}
