// Acceptance 2 of issue 11: 300 generated compose projects (random services, comments, anchors
// and aliases, merge keys, flow and block styles, profiles, CRLF, no final newline, tabs in
// comments). For every one, attach then detach gives the override file back byte for byte,
// and docker-compose config accepts base + override with the proxy as the merged db service.
// docker-compose 1.29 takes about a second per run, so all 300 go through its own entry point
// in one Python process (compose_config_many.py), and one in 50 also through the real
// `docker-compose config` command. Seeded: ZDAP_PROPERTY_SEED replays a run, and a failing case
// prints its seed and index.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "compose/compose_file.h"
#include "compose/override_editor.h"
#include "compose/proxy_service.h"
#include "core/file_util.h"
#include "support/test_env.h"
#include "test_proxy.h"

using namespace zdap;
using namespace zdap::compose;

namespace {

constexpr int kCases = 300;
constexpr int kCommandEvery = 50;  // also checked with the docker-compose command itself

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }

 private:
  std::mt19937_64 rng_;
};

struct Case {
  std::string version;  // "" = none
  std::string base;
  bool override_exists = false;
  std::string override_text;
};

std::string Comment(Gen& g) {
  return g.Pick<std::string>({"# note", "# tab\there", "#", "# ünïcode ✓", "# \"quoted\" 'x'",
                              "# key: value", "#\t\tleading tabs"});
}

// A random service body for the override (never `db`), in block or flow style, with `ind` as
// its key's indentation and `step` per level.
std::string Service(Gen& g, const std::string& name, int ind, int step, bool anchors, bool profiles,
                    const std::string& eol) {
  std::string i0(ind, ' '), i1(ind + step, ' '), i2(ind + 2 * step, ' ');
  std::string out;
  if (g.Chance(30)) {  // flow style
    out += i0 + name + ": {image: " + g.Pick<std::string>({"alpine", "'busybox:1'", "\"x/y:z\""});
    if (g.Chance(50)) out += ", environment: {A: \"1\", B: 'two'}";
    if (profiles && g.Chance(40)) out += ", profiles: [debug]";
    out += "}";
    if (g.Chance(30)) out += "  " + Comment(g);
    return out + eol;
  }
  out += i0 + name + ":" + (g.Chance(20) ? "  " + Comment(g) : "") + eol;
  if (anchors && g.Chance(50)) out += i1 + "<<: *common" + eol;
  out += i1 + "image: " + g.Pick<std::string>({"alpine", "'alpine:3'", "\"busybox\""}) + eol;
  if (g.Chance(40)) {
    out += i1 + "environment:" + eol;
    if (g.Chance(50)) {
      out += i2 + "FOO: \"bar\"" + eol + i2 + "EMPTY: ''" + eol;
    } else {
      out += i2 + "- FOO=bar" + eol + i2 + "- \"B=c d\"" + eol;
    }
  }
  if (g.Chance(30)) out += i1 + "command: [\"sh\", \"-c\", \"echo hi\"]" + eol;
  if (g.Chance(25)) out += i1 + "labels: {team: x}" + eol;
  if (profiles && g.Chance(40)) out += i1 + "profiles:" + eol + i2 + "- debug" + eol;
  if (g.Chance(20)) out += eol;
  if (g.Chance(20)) out += i1 + Comment(g) + eol;
  return out;
}

Case Generate(Gen& g) {
  Case c;
  c.version = g.Pick<std::string>({"", "3.8", "3.9", "2.4"});
  const std::string eol = g.Chance(30) ? "\r\n" : "\n";
  const int step = g.Pick<int>({2, 4});
  const bool anchors = g.Chance(50);
  const bool profiles = g.Chance(40);

  // Base file: the db service zdap replaces, an app, and the networks/volumes they use.
  std::string ports = g.Pick<std::string>(
      {"[\"5432\"]", "[\"5433:5432\"]", "[\"127.0.0.1:5434:5432\"]", "[\"5432/tcp\"]",
       "[{target: 5432, published: 5435}]", "[\"127.0.0.1:${DBPORT:-5436}:5432\", \"9187\"]"});
  c.base = (c.version.empty() ? "" : "version: \"" + c.version + "\"\n") +
           "services:\n  db:\n    image: postgres:15\n    user: postgres\n    ports: " + ports +
           "\n    environment: " +
           g.Pick<std::string>({"{POSTGRES_PASSWORD: pw}", "[\"POSTGRES_PASSWORD=pw\", \"X\"]"}) +
           "\n    volumes: [\"data:/var/lib/postgresql/data\"]\n  app:\n    image: alpine\n"
           "    depends_on: [db]\nvolumes:\n  data: {}\n";

  // Override file: none, or a mix of the features above.
  c.override_exists = g.Chance(85);
  if (!c.override_exists) return c;
  std::string out;
  if (g.Chance(50)) out += Comment(g) + eol;
  if (!c.version.empty() && g.Chance(60)) {
    out +=
        "version: " + g.Pick<std::string>({"\"" + c.version + "\"", "'" + c.version + "'"}) + eol;
  }
  if (anchors) {  // x- keys: every version generated accepts them
    out += "x-common: &common" + eol + std::string(step, ' ') + "restart: \"no\"" + eol;
  }
  if (g.Chance(15)) {
    out += eol;  // no services key at all: zdap adds one
  } else {
    out += "services:" + (g.Chance(20) ? "  " + Comment(g) : std::string()) + eol;
    int n = g.Int(1, 4);
    for (int i = 0; i < n; ++i) {
      std::string name = i == 0 ? "app" : "svc" + std::to_string(i);
      out += Service(g, name, step, step, anchors, profiles, eol);
      if (g.Chance(20)) out += std::string(step, ' ') + Comment(g) + eol;
    }
  }
  if (g.Chance(30)) out += "volumes:" + eol + std::string(step, ' ') + "extra: {}" + eol;
  if (g.Chance(20)) out += "# trailing" + eol;
  if (g.Chance(30)) {  // no final newline
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  }
  c.override_text = out;
  return c;
}

uint64_t Seed() {
  if (const char* s = std::getenv("ZDAP_PROPERTY_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// The merged config docker-compose printed for a case: the db service is the proxy, the app
// is still there.
void CheckMerged(const std::string& merged) {
  YAML::Node root = YAML::Load(merged);
  REQUIRE(root["services"]["db"]["image"].Scalar() == "zdap/proxyd:test");
  REQUIRE(root["services"]["db"]["user"].Scalar() == kProxyUser);
  REQUIRE(root["services"]["app"]);
}

// "EXIT_CODE DIR" lines of compose_config_many.py: DIR -> exit code.
std::map<std::string, int> ExitCodes(const std::string& printed) {
  std::map<std::string, int> out;
  std::istringstream lines(printed);
  std::string line;
  while (std::getline(lines, line)) {
    size_t space = line.find(' ');
    if (space == std::string::npos || space == 0) continue;
    if (line.find_first_not_of("0123456789") != space) continue;  // compose's own messages
    out[line.substr(space + 1)] = std::atoi(line.c_str());
  }
  return out;
}

}  // namespace

TEST_CASE("attach then detach is byte-identical on 300 generated projects", "[compose]") {
  REQUIRE(test::Shell("docker-compose version >/dev/null") == 0);  // scripts/test installs it
  const uint64_t seed = Seed();
  std::printf("override property test: ZDAP_PROPERTY_SEED=%llu\n",
              static_cast<unsigned long long>(seed));
  Gen g(seed);
  auto started = std::chrono::steady_clock::now();
  test::TempDir root("zdap-property");
  std::vector<std::string> dirs;
  std::vector<std::string> described;  // per case: seed, index, the files
  int commands = 0;
  for (int i = 0; i < kCases; ++i) {
    Case c = Generate(g);
    INFO("ZDAP_PROPERTY_SEED=" << seed << " case " << i << "\n--- base:\n"
                               << c.base << "--- override:\n"
                               << c.override_text);
    std::string dir = root.path() + "/case-" + std::to_string(i);
    REQUIRE(MakeDirs(dir).ok());
    REQUIRE(WriteFileAtomic(dir + "/docker-compose.yml", c.base).ok());
    ProxyService service = test::DbProxyFor(dir + "/docker-compose.yml");
    auto attached = AttachService(c.override_text, c.override_exists, service, c.version);
    INFO(attached.status().message());
    REQUIRE(attached.ok());
    auto detached = DetachService(*attached, "db");
    REQUIRE(detached.ok());
    if (c.override_exists) {
      REQUIRE_FALSE(detached->delete_file);
      REQUIRE(detached->text == c.override_text);
    } else {
      REQUIRE(detached->delete_file);
    }
    REQUIRE(WriteFileAtomic(dir + "/docker-compose.override.yml", *attached).ok());
    dirs.push_back(dir);
    described.push_back("ZDAP_PROPERTY_SEED=" + std::to_string(seed) + " case " +
                        std::to_string(i) + "\n--- base:\n" + c.base + "--- override:\n" +
                        c.override_text + "--- attached:\n" + *attached);
    if (i % kCommandEvery != 0) continue;
    ++commands;
    std::string out;
    int rc = test::Shell("cd '" + dir + "' && docker-compose --profile debug config 2>&1", &out);
    INFO("--- attached:\n" << *attached << "--- docker-compose config:\n" << out);
    REQUIRE(rc == 0);
    CheckMerged(out);
  }

  // All of them through docker-compose's entry point, with the interpreter of its #! line.
  std::string command =
      "py=$(head -n 1 \"$(command -v docker-compose)\" | sed -n 's/^#! *//p') && [ -n \"$py\" ] "
      "&& $py " +
      test::SourceDir() + "/tests/compose/compose_config_many.py";
  for (const std::string& d : dirs) command += " '" + d + "'";
  std::string printed;
  int rc = test::Shell(command + " 2>/dev/null", &printed);
  INFO("compose_config_many.py: " << printed);
  REQUIRE(rc == 0);
  std::map<std::string, int> codes = ExitCodes(printed);
  REQUIRE(codes.size() == dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i) {
    auto merged = ReadFile(dirs[i] + "/merged.yml");
    REQUIRE(merged.ok());
    INFO(described[i] << "--- docker-compose config:\n" << *merged);
    REQUIRE(codes[dirs[i]] == 0);
    CheckMerged(*merged);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::printf(
      "override property test: %d cases, all accepted by docker-compose config (%d also by the "
      "command), %lld ms\n",
      kCases, commands, static_cast<long long>(ms));
}
