// The verb registry and the verbs without compose, through the built binary against fake
// origins: clone (every -o), destroy, reset, extend, protect/unprotect (a clone id found on the
// second origin), refresh --wait (progress lines, -q, a failing job), "did you mean", the
// completion scripts in bash, zsh and fish, and that no message names a missing verb.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "fake_origin.h"
#include "support/test_env.h"
#include "zdap/suggest.h"
#include "zdap/verbs.h"

namespace zdap {
namespace {

struct Env {
  test::TempDir home{"zdap-verbs"};
  std::string config() const { return home.path() + "/config.yaml"; }

  // zdap in the temp dir, stdout and stderr in *out; returns the exit code.
  int Zdap(const std::string& args, std::string* out) const {
    out->clear();
    int rc = test::Shell("cd '" + home.path() + "' && ZDAP_CONFIG='" + config() + "' " +
                             test::ProgramPath("apps/zdap/zdap") + " " + args,
                         out);
    UNSCOPED_INFO("zdap " << args << " -> " << rc << ": " << *out);
    return rc;
  }
  std::string Ok(const std::string& args) const {
    std::string out;
    REQUIRE(Zdap(args, &out) == 0);
    return out;
  }
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t Lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string CloneJson(const std::string& id, const std::string& engine, bool is_protected,
                      const std::string& expires, const std::string& snapshot) {
  return R"({"id":")" + id + R"(","resource":"chinook","snapshot":")" + snapshot +
         R"(","owner":"alice","state":"ready","host":"127.0.0.1","port":6001,)"
         R"("database":"chinook","user":"postgres","password":"it's-s3cret",)"
         R"("uri":"postgres://postgres:s3cret@127.0.0.1:6001/chinook",)"
         R"("created_at":"2026-11-22T03:04:05Z","expires_at":)" +
         (expires.empty() ? std::string("null") : "\"" + expires + "\"") + R"(,"protected":)" +
         (is_protected ? "true" : "false") + R"(,"pooled":false,"origin":"","engine":")" + engine +
         R"("})";
}

std::string JobJson(const std::string& id, const std::string& state, const std::string& phase,
                    int done, int total, const std::string& snapshot = "",
                    const std::string& error = "") {
  auto str = [](const std::string& s) { return s.empty() ? std::string("null") : "\"" + s + "\""; };
  return R"({"id":")" + id + R"(","resource":"chinook","kind":"refresh","state":")" + state +
         R"(","phase":)" + str(phase) + R"(,"bytes_done":)" + std::to_string(done) +
         R"(,"bytes_total":)" + std::to_string(total) +
         R"(,"started_at":null,"finished_at":null,"elapsed_ms":2500,"snapshot":)" + str(snapshot) +
         R"(,"error":)" + str(error) + R"(,"log_tail":[]})";
}

constexpr const char kResources[] =
    R"({"resources":[{"name":"chinook","engine":"postgres","version":"15","database":"chinook",)"
    R"("snapshots":[{"id":"chinook@20261122T030405Z","created_at":"2026-11-22T03:04:05Z"}],)"
    R"("clones":[]}]})";
constexpr const char kNotFound[] = R"({"error":{"code":"not_found","message":"not found here"}})";

// An origin with one clone, "chinook-7", reset/PATCH routes as SPEC has them, and refresh jobs:
// job-ok goes import -> snapshot -> done, job-bad fails.
test::FakeOrigin::Handler Origin(const std::string& engine) {
  auto polls = std::make_shared<int>(0);
  return [engine, polls](const test::FakeRequest& r) -> test::FakeReply {
    const std::string id = "chinook-7";
    if (r.target == "/v1/health") return {200, R"({"status":"ok","version":"0.1.0"})"};
    if (r.method == "GET" && r.target == "/v1/resources") return {200, kResources};
    if (r.method == "POST" && r.target == "/v1/resources/chinook/clones") {
      return {201, CloneJson(id, engine, false, "", "chinook@20261122T030405Z")};
    }
    if (r.method == "POST" && r.target.starts_with("/v1/resources/")) {
      if (r.target == "/v1/resources/chinook/snapshots") {
        return {202, R"({"job":)" + JobJson("job-ok", "queued", "", 0, 0) + "}"};
      }
      return {404, R"({"error":{"code":"not_found","message":"resource not found"}})"};
    }
    if (r.method == "GET" && r.target == "/v1/clones") {
      return {200, R"({"clones":[)" + CloneJson(id, engine, false, "", "s") + "]}"};
    }
    if (r.target == "/v1/clones/" + id) {
      if (r.method == "GET") return {200, CloneJson(id, engine, false, "", "s")};
      if (r.method == "DELETE") return {204, ""};
      if (r.method == "PATCH") {
        bool prot = Contains(r.body, R"("protected":true)");
        std::string expires = Contains(r.body, R"("ttl":"2d")") ? "2026-12-02T00:00:00Z" : "";
        return {200, CloneJson(id, engine, prot, expires, "s")};
      }
    }
    if (r.method == "POST" && r.target == "/v1/clones/" + id + "/reset") {
      std::string snap = Contains(r.body, "chinook@20261101T000000Z") ? "chinook@20261101T000000Z"
                                                                      : "chinook@20261122T030405Z";
      return {200, CloneJson(id, engine, false, "", snap)};
    }
    if (r.target == "/v1/jobs/job-ok") {
      int n = ++*polls;
      if (n == 1) return {200, JobJson("job-ok", "running", "import", 10 << 20, 40 << 20)};
      if (n == 2) return {200, JobJson("job-ok", "running", "import", 40 << 20, 40 << 20)};
      if (n == 3) return {200, JobJson("job-ok", "running", "snapshot", 40 << 20, 40 << 20)};
      return {200, JobJson("job-ok", "done", "snapshot", 40 << 20, 40 << 20,
                           "chinook@20261130T120000Z")};
    }
    return {404, kNotFound};
  };
}

}  // namespace

TEST_CASE("edit distance and closest word", "[verbs]") {
  using cli::Closest;
  CHECK(cli::EditDistance("atach", "attach") == 1);
  CHECK(cli::EditDistance("", "abc") == 3);
  CHECK(cli::EditDistance("kitten", "sitting") == 3);
  CHECK(Closest("atach", {"init", "attach", "detach"}) == "attach");
  CHECK(Closest("lst", {"list", "origin"}) == "list");
  CHECK(Closest("xyzzy", {"list", "origin"}).empty());  // nothing close: no guess
  CHECK(Closest("a", {"b"}).empty());                   // one letter is no typo of another
  CHECK(Closest(std::string(10000, 'a'), {"attach"}).empty());
  CHECK(cli::DidYouMean("detahc", {"detach"}) == "; did you mean detach?");
}

// `text` with every run of spaces and newlines as one space: help text as it reads, however
// it is wrapped.
std::string Squeezed(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool space = c == ' ' || c == '\n';
    if (!space) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  return out;
}

// Every line of `text` fits 80 columns.
void CheckFits80(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    INFO(text.substr(start, end - start));
    CHECK(end - start <= 80);
    start = end + 1;
  }
}

TEST_CASE("every verb of the registry describes itself and has --help", "[verbs]") {
  Env env;
  std::set<std::string> names;
  const std::string general = env.Ok("--help");
  CheckFits80(general);
  size_t longest_usage = 0;
  for (const auto& v : cli::AllVerbs()) {
    INFO(v.name);
    const std::string usage = v.Usage();
    CHECK(usage.starts_with("zdap " + v.name));
    CHECK_FALSE(v.syntax.about.empty());
    CHECK(names.insert(v.name).second);
    for (const auto& a : v.aliases) CHECK(names.insert(a).second);
    // Every option has help, one spelling per option, and what it completes declared.
    std::set<std::string> spellings = {"help", "h"};
    for (const auto& o : v.syntax.options) {
      INFO(o.name);
      CHECK_FALSE(o.help.empty());
      CHECK(spellings.insert(o.name).second);
      if (o.short_name != 0) CHECK(spellings.insert(std::string(1, o.short_name)).second);
      CHECK((o.complete == cli::Complete::kChoices) == !o.choices.empty());
    }
    if (v.hidden) continue;
    longest_usage = std::max(longest_usage, usage.size());
    std::string out = env.Ok(v.name + " --help");
    CHECK(Squeezed(out).starts_with("usage: " + Squeezed(usage)));
    CHECK(Contains(Squeezed(out), Squeezed(v.syntax.about)));
    for (const auto& o : v.syntax.options) CHECK(Contains(Squeezed(out), Squeezed(o.help)));
    CHECK(Contains(Squeezed(general), Squeezed(usage)));
    CHECK(Contains(Squeezed(general), Squeezed(v.summary)));
    CheckFits80(out);
  }
  CHECK(longest_usage > 80);  // what is checked: a usage line that had to wrap
  // Usage lines wrap between their bracketed options, never inside one.
  int depth = 0;
  for (char c : general) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (c == '\n') CHECK(depth == 0);
  }
  CHECK(Contains(general,
                 "\n      [--ttl D] [--replicas N] [--balance first|roundrobin|leastconn] [-q]\n"));
  for (const char* verb : {"clone", "destroy", "reset", "extend", "protect", "unprotect", "refresh",
                           "completion", "list clones", "attach", "detach"}) {
    CHECK(names.count(verb) == 1);
  }
}

TEST_CASE("unknown verbs suggest the closest, exit 2", "[verbs]") {
  Env env;
  std::string out;
  CHECK(env.Zdap("atach db", &out) == 2);
  CHECK(out == "zdap: 'atach' is not a zdap verb; did you mean attach? (see `zdap --help`)\n");
  CHECK(env.Zdap("origin lst", &out) == 2);
  CHECK(Contains(out, "did you mean list?"));
  CHECK(env.Zdap("frobnicate", &out) == 2);
  CHECK_FALSE(Contains(out, "did you mean"));
  CHECK(env.Zdap("extend chinook-7", &out) == 2);  // --ttl missing
  CHECK(Contains(out, "--ttl is required"));
  CHECK(env.Zdap("clone", &out) == 2);
  CHECK(env.Zdap("completion tcsh", &out) == 2);
  CHECK(Contains(out, "use bash, zsh or fish"));
}

// Every `zdap ...` that a message or comment tells the user to run names a verb that exists.
TEST_CASE("no message points at a verb that does not exist", "[verbs]") {
  std::regex suggestion("`zdap ([a-z_]+)( [a-z]+)?");
  int checked = 0;
  for (const char* dir : {"apps/zdap", "apps/zdapd", "libs/compose", "libs/net"}) {
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(test::SourceDir() + "/" + dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      std::string s = text.str();
      for (std::sregex_iterator it(s.begin(), s.end(), suggestion), end; it != end; ++it) {
        std::string first = (*it)[1];
        std::string second = (*it)[2].matched ? std::string((*it)[2]).substr(1) : "";
        if (first == "help" || first == "version") continue;
        INFO(entry.path().string() << ": " << it->str());
        std::vector<std::string> words = {first};
        if (!second.empty()) words.push_back(second);
        auto match = cli::MatchVerb(words);
        // A one-word verb followed by its operand ("zdap detach db") is fine too.
        CHECK(match.has_value());
        ++checked;
      }
    }
  }
  CHECK(checked > 10);
}

TEST_CASE("clone, reset, extend, protect, destroy find the clone on the origin that has it",
          "[verbs]") {
  test::FakeOrigin empty([](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/health") return {200, R"({"status":"ok","version":"0.1.0"})"};
    if (r.target == "/v1/clones") return {200, R"({"clones":[]})"};
    if (r.target == "/v1/resources") return {200, R"({"resources":[]})"};
    return {404, kNotFound};
  });
  test::FakeOrigin origin(Origin("postgres"));
  Env env;
  env.Ok("origin add " + empty.url());
  env.Ok("origin add " + origin.url() + " --token t0k3n");

  // clone: table (key value lines), json, yaml, env; forced onto the origin with the resource.
  std::string out = env.Ok("clone chinook --origin " + origin.url() + " --ttl 2h --name mine");
  CHECK(Contains(out, "password  it's-s3cret\n"));
  CHECK(Contains(out, "port      6001\n"));
  CHECK(Contains(out, "uri       postgres://postgres:s3cret@127.0.0.1:6001/chinook\n"));
  auto posts = origin.requests();
  REQUIRE_FALSE(posts.empty());
  CHECK(Contains(posts.back().body, R"("ttl":"2h")"));
  CHECK(Contains(posts.back().body, R"("name":"mine")"));
  CHECK(Contains(env.Ok("clone chinook -o json --origin " + origin.url()),
                 R"("password":"it's-s3cret")"));
  CHECK(Contains(env.Ok("clone chinook -o yaml --origin " + origin.url()), "port: 6001"));
  // -o env: a shell that evals it has the variables, quotes and all.
  out = env.Ok("clone chinook -o env --origin " + origin.url());
  CHECK(Contains(out, "PG* variables"));
  std::string shell_out;
  REQUIRE(test::Shell("cd '" + env.home.path() + "' && eval \"$(ZDAP_CONFIG='" + env.config() +
                          "' " + test::ProgramPath("apps/zdap/zdap") + " clone chinook -o env " +
                          "--origin " + origin.url() + ")\" && printf '%s|%s|%s' \"$PGPORT\" " +
                          "\"$PGPASSWORD\" \"$DATABASE_URL\"",
                      &shell_out) == 0);
  CHECK(shell_out == "6001|it's-s3cret|postgres://postgres:s3cret@127.0.0.1:6001/chinook");
  CHECK(env.Zdap("clone chinook -o xml --origin " + origin.url(), &out) == 2);
  CHECK(Contains(out, "use table, json, yaml or env"));
  // An unknown resource: the origin's error and the closest resource it has.
  CHECK(env.Zdap("clone chinok --origin " + origin.url(), &out) == 1);
  CHECK(Contains(out, "did you mean chinook?"));
  CHECK(Lines(out) == 1);

  // reset, extend, protect, unprotect: found on the second origin, the right request there.
  CHECK(Contains(env.Ok("reset chinook-7 --snapshot chinook@20261101T000000Z"),
                 "reset clone chinook-7 to chinook@20261101T000000Z"));
  auto seen = origin.requests();
  CHECK(seen.back().method == "POST");
  CHECK(seen.back().target == "/v1/clones/chinook-7/reset");
  CHECK(seen.back().body == R"({"snapshot":"chinook@20261101T000000Z"})");
  CHECK(seen.back().HasHeader("Authorization: Bearer t0k3n"));
  CHECK(Contains(env.Ok("extend chinook-7 --ttl 48h"), "expires 2026-12-02T00:00:00Z"));
  CHECK(origin.requests().back().method == "PATCH");
  // Durations travel in their canonical form (api/requests.h).
  CHECK(origin.requests().back().body == R"({"ttl":"2d"})");
  CHECK(Contains(env.Ok("protect chinook-7"), "protected, never expires"));
  CHECK(origin.requests().back().body == R"({"protected":true})");
  CHECK(Contains(env.Ok("unprotect chinook-7"), "unprotected clone chinook-7"));
  CHECK(origin.requests().back().body == R"({"protected":false})");
  CHECK(env.Zdap("extend chinook-7 --ttl soon", &out) == 1);  // bad duration, no request
  CHECK(origin.requests().back().body == R"({"protected":false})");
  CHECK(env.Zdap("reset chinook-7 --snapshot not-a-snapshot", &out) == 1);

  // A clone no origin has: exit 1, one line, with the closest of the user's clone ids.
  CHECK(env.Zdap("protect chinook-8", &out) == 1);
  CHECK(out == "zdap: error: clone 'chinook-8' not found on any origin; did you mean chinook-7?\n");
  // destroy several: the missing one is reported, the other destroyed, exit 1.
  CHECK(env.Zdap("destroy nope-1 chinook-7", &out) == 1);
  CHECK(Contains(out, "clone 'nope-1' not found on any origin"));
  CHECK(Contains(out, "destroyed clone chinook-7 on " + origin.url()));
  CHECK(origin.requests().back().method == "DELETE");
  CHECK(Contains(env.Ok("destroy chinook-7"), "destroyed clone chinook-7"));
}

TEST_CASE("clone -o env of a MariaDB clone is MYSQL_* lines", "[verbs]") {
  test::FakeOrigin origin(Origin("mariadb"));
  Env env;
  env.Ok("origin add " + origin.url());
  std::string out = env.Ok("clone chinook -o env");
  CHECK(Contains(out, "MYSQL_* variables"));
  CHECK(Contains(out, "export MYSQL_TCP_PORT='6001'\n"));
  CHECK(Contains(out, "export MYSQL_PWD='it'\\''s-s3cret'\n"));
  CHECK_FALSE(Contains(out, "PGPASSWORD"));
}

TEST_CASE("refresh --wait follows the job: lines off a terminal, -q only the result", "[verbs]") {
  Env env;
  {
    test::FakeOrigin origin(Origin("postgres"));
    env.Ok("origin add " + origin.url());
    std::string out = env.Ok("refresh chinook");
    CHECK(out == "started refresh of chinook on " + origin.url() + ": job job-ok\n");
    out = env.Ok("refresh chinook --wait");
    CHECK(Contains(out, "import 10.0 MiB / 40.0 MiB\n"));
    CHECK(Contains(out, "snapshot 40.0 MiB / 40.0 MiB\n"));
    CHECK(Contains(out, "refreshed chinook: snapshot chinook@20261130T120000Z"));
    CHECK_FALSE(Contains(out, "\r"));  // no progress bar into a pipe
    CHECK(env.Zdap("refresh chinok", &out) == 1);
    CHECK(Contains(out, "did you mean chinook?"));
  }
  {
    test::FakeOrigin origin(Origin("postgres"));
    env.Ok("origin remove " + env.Ok("origin list").substr(0, env.Ok("origin list").size() - 1));
    env.Ok("origin add " + origin.url());
    CHECK(env.Ok("refresh chinook --wait -q") == "chinook@20261130T120000Z\n");
  }
  // A failing job: exit 1 with its error line.
  env.Ok("origin remove " + env.Ok("origin list").substr(0, env.Ok("origin list").size() - 1));
  test::FakeOrigin failing([](const test::FakeRequest& r) -> test::FakeReply {
    if (r.method == "GET" && r.target == "/v1/resources") return {200, kResources};
    if (r.method == "POST" && r.target == "/v1/resources/chinook/snapshots") {
      return {202, R"({"job":)" + JobJson("job-bad", "running", "import", 0, 0) + "}"};
    }
    if (r.target == "/v1/jobs/job-bad") {
      return {200, JobJson("job-bad", "failed", "import", 0, 0, "",
                           "pg_restore: error: could not connect")};
    }
    return {404, kNotFound};
  });
  env.Ok("origin add " + failing.url());
  std::string out;
  CHECK(env.Zdap("refresh chinook --wait -q", &out) == 1);
  CHECK(out == "zdap: error: refresh of chinook failed: pg_restore: error: could not connect\n");
}

TEST_CASE("completion scripts load in bash, zsh and fish and complete verbs and options",
          "[verbs]") {
  Env env;
  std::string zdap = test::ProgramPath("apps/zdap/zdap");
  std::string dir = env.home.path();
  for (const char* shell : {"bash", "zsh", "fish"}) {
    REQUIRE(test::Shell(zdap + " completion " + shell + " > " + dir + "/script." + shell) == 0);
  }
  std::string path = "PATH=" + std::filesystem::path(zdap).parent_path().string() + ":$PATH ";
  std::string out;
  // bash: drive the completion function as bash does.
  auto bash = [&](const std::string& line) {
    std::string script = dir + "/drive.bash";
    std::ofstream(script) << "source " << dir << "/script.bash\n"
                          << "complete -p zdap >/dev/null || exit 3\n"
                          << "read -ra COMP_WORDS <<< '" << line << "'\n"
                          << "[[ '" << line << "' == *' ' ]] && COMP_WORDS+=('')\n"
                          << "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_zdap\n"
                          << "echo \"${COMPREPLY[*]}\"\n";
    std::string o;
    REQUIRE(test::Shell(path + "ZDAP_CONFIG=" + env.config() + " bash " + script, &o) == 0);
    return o;
  };
  CHECK(bash("zdap atta") == "attach\n");
  CHECK(bash("zdap origin ") == "add remove list\n");
  CHECK(bash("zdap clone --na") == "--name\n");
  CHECK(bash("zdap clone -o ") == "table json yaml env\n");
  CHECK(bash("zdap list clones -o y") == "yaml\n");
  CHECK(bash("zdap completion ") == "bash zsh fish\n");
  // zsh: loads with compinit and registers _zdap; the shared candidate function answers.
  REQUIRE(test::Shell(path + "zsh -fc 'autoload -U compinit && compinit -u -d " + dir +
                          "/zcompdump && source " + dir + "/script.zsh && whence -w _zdap && " +
                          "_zdap_candidates 1 atta \"\" zdap atta && _zdap_candidates 3 --s " +
                          "attach zdap attach db --s'",
                      &out) == 0);
  // (the shell filters by the prefix; the function gives every first word, every option)
  CAPTURE(out);
  CHECK(out.starts_with("_zdap: function\norigin\n"));
  CHECK(Contains(out, "\nattach\n"));
  CHECK(Contains(out, "\n--service\n"));
  CHECK(Contains(out, "\n--snapshot\n"));
  out.clear();  // Shell appends
  // fish: complete -C runs the completion as the user's TAB would.
  REQUIRE(test::Shell(path + "fish -c 'source " + dir +
                          "/script.fish; complete -C \"zdap atta\"; " +
                          "complete -C \"zdap unprotect --h\"'",
                      &out) == 0);
  CAPTURE(out);
  CHECK(out.starts_with("attach\t"));
  CHECK(Contains(out, "\n--help\n"));
}

}  // namespace zdap

namespace zdap {

TEST_CASE("a mistyped compose service is refused before any clone; services complete", "[verbs]") {
  test::FakeOrigin origin(Origin("postgres"));
  Env env;
  std::ofstream(env.home.path() + "/docker-compose.yml")
      << "services:\n  db:\n    image: postgres:15\n  app:\n    image: busybox\n";
  env.Ok("origin add " + origin.url());
  env.Ok("init");
  std::string out;
  CHECK(env.Zdap("attach chinook --service dbb", &out) == 1);
  CHECK(out == "zdap: error: service 'dbb' is not in docker-compose.yml; did you mean db?\n");
  for (const auto& r : origin.requests()) CHECK(r.method != "POST");  // no clone made
  CHECK(env.Zdap("detach db", &out) == 1);
  CHECK(Contains(out, "service 'db' is not attached by zdap"));
  CHECK(env.Ok("__complete option attach service") == "db\napp\n");
  CHECK(env.Ok("__complete operand attach") == "chinook\n");
  CHECK(env.Ok("__complete operand detach").empty());  // nothing attached yet
  CHECK(env.Ok("__complete option clone o") == "table\njson\nyaml\nenv\n");
  CHECK(env.Ok("__complete option destroy nothing").empty());
  CHECK(env.Zdap("__complete operand no-such-verb", &out) == 1);
  CHECK(out.empty());  // silent: a completion prints no errors into the command line
}

}  // namespace zdap
