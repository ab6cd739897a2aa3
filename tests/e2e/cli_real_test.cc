// The zdap CLI binary against a real zdapd (no FakeOrigin): attach --snapshot/--origin,
// detach --keep, init with non-default file names, the list verbs in every output format,
// clone/destroy/refresh/completion, reset/extend/protect/unprotect/status/origin remove, and
// usage errors. Each step checks the exit code and the output.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A compose project (the Chinook example, under a non-default name) and a user config, both in
// one temp dir; runs the real zdap there.
class CliProject {
 public:
  CliProject() : dir_("zdap-cli-project") {
    std::string base = SourceDir() + "/compose-examples/chinook/docker-compose.yml";
    REQUIRE(Shell("cp " + base + " " + dir_.path() + "/stack.yml") == 0);
  }
  // zdap <args> in the project; returns the exit status, stdout and stderr in *out.
  // `config`: the user config file's name in the project dir (another one is another user).
  int Run(const std::string& args, std::string* out,
          const std::string& config = "user.yaml") const {
    out->clear();
    // In braces so that a redirection in `args` (2>/dev/null) wins over Shell's 2>&1.
    return Shell("{ cd " + dir_.path() + " && ZDAP_CONFIG=" + dir_.path() + "/" + config + " " +
                     ProgramPath("apps/zdap/zdap") + " " + args + "; }",
                 out);
  }
  // zdap <args>, required to succeed; returns its output.
  std::string Ok(const std::string& args, const std::string& config = "user.yaml") const {
    std::string out;
    int rc = Run(args, &out, config);
    INFO("zdap " << args << ": " << out);
    REQUIRE(rc == 0);
    return out;
  }
  std::string File(const std::string& name) const { return dir_.path() + "/" + name; }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
};

// `python3 -c` with yaml.safe_load of `text`; returns what the script printed. Fails the test
// when python3 or its yaml module cannot run (then nothing was checked).
std::string LoadYamlAndPrint(const TempDir& tmp, const std::string& text,
                             const std::string& expression) {
  std::string file = tmp.path() + "/listing.yaml";
  std::ofstream(file) << text;
  std::string out;
  int rc = Shell("python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(" +
                     expression + ")' " + file,
                 &out);
  INFO("python3 yaml: " << out);
  REQUIRE(rc == 0);
  return out;
}

std::string Line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("zdap against a real zdapd: snapshots, origins, --keep, init names, list formats",
          "[cli]") {
  ZdapdFixture d;
  // Two snapshots, so that --snapshot has a choice that is not the default (the newest).
  REQUIRE(d.Host("refresh chinook") == 0);
  REQUIRE(d.Host("refresh chinook") == 0);
  // A clone on a non-loopback address (attach refuses loopback-only clones) needs tokens.
  d.UseTokens({"alice"});
  ::setenv("ZDAPD_CLONE_BIND", "0.0.0.0", 1);
  d.Start();
  ::unsetenv("ZDAPD_CLONE_BIND");

  CliProject p;
  TempDir tmp("zdap-cli-yaml");
  std::string good = d.Url();
  p.Ok("origin add " + good + " --token " + d.Token("alice"));
  p.Ok("user set alice");

  // init with non-default names: .zdap.yaml names both files, and attach edits that override.
  CHECK(Contains(p.Ok("init --compose stack.yml --override zdap-local.yml"), ".zdap.yaml"));
  std::string project = ReadText(p.File(".zdap.yaml"));
  CHECK(Contains(project, "stack.yml"));
  CHECK(Contains(project, "zdap-local.yml"));

  // list snapshots: two, the same ids in all three formats.
  std::string json_out = p.Ok("list snapshots -o json");
  auto snapshots = boost::json::parse(json_out).at("snapshots").as_array();
  REQUIRE(snapshots.size() == 2);
  std::vector<std::string> ids;
  // data_as_of of a dump file: its mtime (the fixture's dump, untouched since the checkout).
  std::string dump_mtime;
  REQUIRE(Shell("date -u -r " + ChinookDir() + "/Chinook_PostgreSql.sql +%Y-%m-%dT%H:%M:%SZ",
                &dump_mtime) == 0);
  dump_mtime = Line(dump_mtime);
  for (const auto& s : snapshots) {
    CHECK(s.at("resource").as_string() == "chinook");
    CHECK(s.at("origin").as_string() == good);
    CHECK(s.at("data_as_of").as_string() == dump_mtime);
    ids.emplace_back(s.at("id").as_string());
  }
  REQUIRE(ids[0] != ids[1]);
  std::string table = p.Ok("list snapshots -o table");
  CHECK(table.rfind("SNAPSHOT", 0) == 0);
  CHECK(Contains(table, "DATA AS OF"));
  CHECK(Contains(table, "  " + dump_mtime + "  "));
  CHECK(Contains(table, ids[0]));
  CHECK(Contains(table, ids[1]));
  CHECK(Line(LoadYamlAndPrint(tmp, p.Ok("list snapshots -o yaml"),
                              "\" \".join(s[\"id\"] for s in d[\"snapshots\"])")) ==
        ids[0] + " " + ids[1]);
  // The default for attach is the newest snapshot (the API lists newest first); ask for the
  // other one.
  std::string newest, older;
  {
    std::string body;
    REQUIRE(d.Call("GET", "/v1/resources/chinook", "", &body) == 200);
    auto r = boost::json::parse(body).as_object();
    INFO(body);
    newest = std::string(r.at("snapshots").as_array().at(0).at("id").as_string());
    older = newest == ids[0] ? ids[1] : ids[0];
    REQUIRE((newest == ids[0] || newest == ids[1]));
  }

  // attach --snapshot: the clone is of that snapshot.
  std::string attached = p.Ok("attach chinook --service db --snapshot " + older);
  CHECK(Contains(attached, "attached chinook"));
  CHECK(Contains(attached, older));
  CHECK(Contains(attached, "zdap-local.yml"));
  CHECK(Shell("test -e " + p.File("docker-compose.override.yml")) != 0);
  std::string override_text = ReadText(p.File("zdap-local.yml"));
  CHECK(Contains(override_text, "db:"));
  CHECK(Contains(override_text, "zdap-proxyd"));

  // list clones: the one clone, of the older snapshot, in all three formats.
  auto clones = boost::json::parse(p.Ok("list clones -o json")).at("clones").as_array();
  REQUIRE(clones.size() == 1);
  std::string clone(clones[0].at("id").as_string());
  CHECK(clones[0].at("snapshot").as_string() == older);
  CHECK(clones[0].at("resource").as_string() == "chinook");
  CHECK(clones[0].at("owner").as_string() == "alice");
  table = p.Ok("list clones -o table");
  CHECK(table.rfind("CLONE", 0) == 0);
  CHECK(Contains(table, clone));
  CHECK(Line(LoadYamlAndPrint(tmp, p.Ok("list clones -o yaml"),
                              "d[\"clones\"][0][\"id\"], d[\"clones\"][0][\"snapshot\"]")) ==
        clone + " " + older);
  {
    std::string body;
    REQUIRE(d.Call("GET", "/v1/clones/" + clone, "", &body) == 200);
    CHECK(JsonField(body, "snapshot") == older);
  }

  // detach --keep: the service leaves the override file (attach made it, so it goes), the
  // clone stays and answers.
  CHECK(Contains(p.Ok("detach db --keep"), "kept clone " + clone));
  CHECK(Shell("test -e " + p.File("zdap-local.yml")) != 0);
  CHECK_FALSE(Contains(ReadText(p.File(".zdap.yaml")), clone));
  {
    std::string body;
    REQUIRE(d.Call("GET", "/v1/clones/" + clone, "", &body) == 200);
    int port = std::stoi(JsonField(body, "port"));
    std::string count;
    CHECK(Psql(port, d.Password(clone), "select count(*) from invoice_line", &count) == 0);
    CHECK(count == "2240\n");
  }

  // list origins before a second one: one row, no token in any format.
  auto origins = boost::json::parse(p.Ok("list origins -o json")).at("origins").as_array();
  REQUIRE(origins.size() == 1);
  CHECK(origins[0].at("url").as_string() == good);
  CHECK(origins[0].at("token_set").as_bool());

  // A second origin that nothing serves (a reserved port nobody listens on).
  std::string dead = "http://127.0.0.1:" + std::to_string(FreeTcpPort());
  p.Ok("origin add " + dead);
  std::string out;
  for (const auto& format : {"table", "json", "yaml"}) {
    INFO(format);
    out = p.Ok(std::string("list origins -o ") + format);
    CHECK(Contains(out, good));
    CHECK(Contains(out, dead));
    CHECK_FALSE(Contains(out, d.Token("alice")));
  }
  origins = boost::json::parse(p.Ok("list origins -o json")).at("origins").as_array();
  REQUIRE(origins.size() == 2);
  CHECK(origins[1].at("url").as_string() == dead);
  CHECK_FALSE(origins[1].at("token_set").as_bool());
  CHECK(p.Ok("list origins -o table").rfind("ORIGIN", 0) == 0);
  CHECK(Line(LoadYamlAndPrint(tmp, p.Ok("list origins -o yaml"),
                              "\" \".join(o[\"url\"] for o in d[\"origins\"])")) ==
        good + " " + dead);

  // Forcing the dead origin: exit 1, one line, nothing attached, no clone made.
  {
    REQUIRE(p.Run("attach chinook --service db --origin " + dead, &out) == 1);
    INFO(out);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK(out.rfind("zdap: error: origin " + dead, 0) == 0);
    CHECK(Shell("test -e " + p.File("zdap-local.yml")) != 0);
  }
  // Forcing the good one works although the dead one is configured; default snapshot = newest.
  attached = p.Ok("attach chinook --service db --origin " + good);
  CHECK(Contains(attached, newest));
  CHECK(Contains(ReadText(p.File(".zdap.yaml")), good));
  clones = boost::json::parse(p.Ok("list clones -o json 2>/dev/null")).at("clones").as_array();
  CHECK(clones.size() == 2);
  // With the dead origin configured, list still answers from the good one and warns.
  CHECK(p.Run("list clones -o table", &out) == 0);
  CHECK(Contains(out, "warning"));
  CHECK(Contains(out, clone));

  // Clean up through the CLI: detach destroys the second clone; the kept one by the API.
  CHECK(Contains(p.Ok("detach db"), "destroyed clone"));
  std::string body;
  CHECK(d.Call("DELETE", "/v1/clones/" + clone, "", &body) / 100 == 2);
  REQUIRE(d.Call("GET", "/v1/clones", "", &body) == 200);
  CHECK(body == "{\"clones\":[]}\n");
}

TEST_CASE("zdap usage errors exit 2 with the usage", "[cli]") {
  CliProject p;
  std::string out;
  CHECK(p.Run("attach", &out) == 2);  // missing RESOURCE
  CHECK(Contains(out, "missing argument"));
  CHECK(p.Run("attach chinook --snapshot", &out) == 2);  // option without its value
  CHECK(Contains(out, "snapshot"));
  CHECK(p.Run("list clones --bogus", &out) == 2);  // unknown option
  CHECK(Contains(out, "bogus"));
  CHECK(p.Run("detach", &out) == 2);
  CHECK(p.Run("init --compose", &out) == 2);
  CHECK(p.Run("list origins -o", &out) == 2);
  CHECK(p.Run("frobnicate", &out) == 2);  // unknown verb
  // A value outside an option's declared choices is a usage error that names them.
  CHECK(p.Run("list origins -o xml", &out) == 2);
  CHECK(Contains(out, "table, json or yaml"));
  // An option a verb does not have is refused, never ignored; a near miss is named.
  CHECK(p.Run("list resources --all", &out) == 2);
  CHECK(out == "zdap: unrecognised option '--all' (see `zdap list resources --help`)\n");
  CHECK(p.Run("list snapshots --all", &out) == 2);
  CHECK(p.Run("attach chinook --servce db", &out) == 2);
  CHECK(Contains(out, "did you mean --service?"));
}

namespace {

// The bash completion of `line` (a trailing space: a new word) with the real zdap and the
// project's user config; the candidates separated by spaces.
std::string BashComplete(const CliProject& p, const std::string& line) {
  std::string zdap = ProgramPath("apps/zdap/zdap");
  std::string script = p.File("drive.bash");
  std::ofstream(script) << "source <(" << zdap << " completion bash)\n"
                        << "read -ra COMP_WORDS <<< '" << line << "'\n"
                        << "[[ '" << line << "' == *' ' ]] && COMP_WORDS+=('')\n"
                        << "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_zdap\n"
                        << "echo \"${COMPREPLY[*]}\"\n";
  std::string out;
  std::string bin_dir = zdap.substr(0, zdap.rfind('/'));
  int rc = Shell("cd " + p.dir() + " && PATH=" + bin_dir +
                     ":$PATH ZDAP_CONFIG=" + p.File("user.yaml") + " bash " + script,
                 &out);
  INFO(out);
  REQUIRE(rc == 0);
  return Line(out);
}

// Who zdap is on the origins without `zdap user set`.
std::string LoginName() {
  std::string login;
  REQUIRE(Shell("id -un", &login) == 0);
  return Line(login);
}

}  // namespace

TEST_CASE("zdap clone, destroy, refresh --wait, list --all, completion against a real zdapd",
          "[cli]") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  CliProject p;
  std::string out;
  // Before any origin: one line that says what to run, exit 1.
  REQUIRE(p.Run("clone chinook", &out) == 1);
  CHECK(out ==
        "zdap: error: no origin configured; add one with `zdap origin add URL [--token T]`\n");
  p.Ok("origin add " + d.Url());
  // The admin: the host's admin token, in a config of its own.
  std::string admin_token;
  REQUIRE(Shell("cat " + d.data_dir() + "/admin.token", &admin_token) == 0);
  admin_token = Line(admin_token);
  p.Ok("origin add " + d.Url() + " --token " + admin_token, "admin.yaml");
  p.Ok("user set zdapd", "admin.yaml");

  // No `zdap user set`: the login name is the user (and is not written into the config).
  const std::string login = LoginName();
  auto clone = boost::json::parse(p.Ok("clone chinook -o json")).as_object();
  std::string id(clone.at("id").as_string());
  CHECK(clone.at("owner").as_string() == login);
  CHECK(clone.at("resource").as_string() == "chinook");
  CHECK_FALSE(Contains(ReadText(p.File("user.yaml")), "user:"));
  // The printed password opens the clone.
  {
    std::string count;
    CHECK(Psql(static_cast<int>(clone.at("port").as_int64()),
               std::string(clone.at("password").as_string()), "select count(*) from invoice_line",
               &count) == 0);
    CHECK(count == "2240\n");
  }
  // -o env: eval it and psql needs nothing else.
  {
    std::string count;
    REQUIRE(Shell("cd " + p.dir() + " && eval \"$(ZDAP_CONFIG=" + p.File("user.yaml") + " " +
                      ProgramPath("apps/zdap/zdap") + " clone chinook -o env)\" && psql -tAc " +
                      "'select count(*) from invoice_line' && echo $PGHOST:$PGPORT",
                  &count) == 0);
    CHECK(count.starts_with("2240\n127.0.0.1:"));
  }
  // The table shows host, port, user, password, URI.
  std::string table = p.Ok("clone chinook --ttl 1h");
  for (const char* field : {"host ", "port ", "user ", "password ", "uri "}) {
    CHECK(Contains(table, std::string("\n") + field));
  }
  auto mine = boost::json::parse(p.Ok("list clones -o json")).at("clones").as_array();
  REQUIRE(mine.size() == 3);

  // Failures: exit 1, one line, what to do.
  REQUIRE(p.Run("clone chinok", &out) == 1);
  CHECK(out.starts_with("zdap: error: origin " + d.Url()));
  CHECK(Contains(out, "did you mean chinook?"));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  REQUIRE(p.Run("clone chinook --snapshot chinook@20010101T000000Z", &out) == 1);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  REQUIRE(p.Run("clone chinook --ttl forever", &out) == 1);
  CHECK(Contains(out, "'forever' is not a duration"));
  REQUIRE(p.Run("clone", &out) == 2);
  CHECK(Contains(out, "missing argument"));
  REQUIRE(p.Run("list clones --all", &out) == 1);  // not an admin
  CHECK(Contains(out, "admin role"));
  REQUIRE(p.Run("refresh chinook", &out) == 1);
  CHECK(Contains(out, "admin role"));
  REQUIRE(p.Run("refresh nope", &out) == 1);
  CHECK(Contains(out, "no origin serves a resource 'nope'; see `zdap list resources`"));

  // The admin sees everyone's clones with --all, only its own without.
  auto all =
      boost::json::parse(p.Ok("list clones --all -o json", "admin.yaml")).at("clones").as_array();
  CHECK(all.size() == 3);
  CHECK(all[0].at("owner").as_string() == login);
  CHECK(boost::json::parse(p.Ok("list clones -o json", "admin.yaml"))
            .at("clones")
            .as_array()
            .empty());

  // Completion: a verb, a resource and a clone id, from this zdapd.
  CHECK(BashComplete(p, "zdap destr") == "destroy");
  CHECK(BashComplete(p, "zdap clone chi") == "chinook");
  CHECK(BashComplete(p, "zdap attach ") == "chinook");
  std::string ids = BashComplete(p, "zdap destroy ");
  CHECK(Contains(ids, id));
  CHECK(std::count(ids.begin(), ids.end(), ' ') == 2);  // all three clones

  // refresh --wait as the admin: plain progress lines (stdout is no terminal), the new snapshot.
  std::string refreshed = p.Ok("refresh chinook --wait", "admin.yaml");
  CHECK(refreshed.starts_with("refresh of chinook on " + d.Url() + ": job job-"));
  CHECK_FALSE(Contains(refreshed, "\r"));
  CHECK(Contains(refreshed, "\nrefreshed chinook: snapshot chinook@"));
  std::string snapshot = Line(p.Ok("refresh chinook --wait -q", "admin.yaml"));
  CHECK(snapshot.starts_with("chinook@"));
  CHECK(snapshot.find('\n') == std::string::npos);
  auto snapshots = boost::json::parse(p.Ok("list snapshots -o json")).at("snapshots").as_array();
  CHECK(snapshots.size() == 3);

  // destroy: each clone goes; a missing id is one line and exit 1, the others still go.
  CHECK(Contains(p.Ok("destroy " + id), "destroyed clone " + id));
  {
    std::string body;
    CHECK(d.Call("GET", "/v1/clones/" + id, "", &body, login) == 404);
  }
  REQUIRE(p.Run("destroy " + id, &out) == 1);
  CHECK(out.starts_with("zdap: error: clone '" + id + "' not found on any origin"));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  std::vector<std::string> rest;
  auto left = boost::json::parse(p.Ok("list clones -o json"));
  for (const auto& c : left.at("clones").as_array()) {
    rest.emplace_back(c.at("id").as_string());
  }
  REQUIRE(rest.size() == 2);
  REQUIRE(p.Run("destroy " + rest[0] + " " + id + " " + rest[1], &out) == 1);
  CHECK(Contains(out, "destroyed clone " + rest[0]));
  CHECK(Contains(out, "destroyed clone " + rest[1]));
  CHECK(Contains(out, "clone '" + id + "' not found"));
  CHECK(boost::json::parse(p.Ok("list clones -o json")).at("clones").as_array().empty());
}

// The verbs the test above leaves out, each with its output, a failure and its exit code:
// reset (the data really is fresh, same port and password), extend, protect and unprotect (the
// origin's record changes), status (up, then down after the daemon is killed), origin list and
// origin remove.
TEST_CASE("zdap reset, extend, protect, unprotect, status, origin list/remove on a real zdapd",
          "[cli]") {
  CliProject p;
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  p.Ok("origin add " + d.Url());
  std::string out;
  const std::string login = LoginName();
  auto clone = boost::json::parse(p.Ok("clone chinook --ttl 1h -o json")).as_object();
  const std::string id(clone.at("id").as_string());
  const int port = static_cast<int>(clone.at("port").as_int64());
  const std::string password(clone.at("password").as_string());
  auto record = [&]() {
    std::string body;
    REQUIRE(d.Call("GET", "/v1/clones/" + id, "", &body, login) == 200);
    return boost::json::parse(body).as_object();
  };

  // reset: a table made in the clone is gone afterwards; same port, same password.
  REQUIRE(Psql(port, password, "create table scratch (x int)", &out) == 0);
  std::string reset = p.Ok("reset " + id);
  CHECK(reset.starts_with("reset clone " + id + " to chinook@"));
  CHECK(Contains(reset, ":" + std::to_string(port) + ")"));
  REQUIRE(Psql(port, password, "select to_regclass('scratch') is null", &out) == 0);
  CHECK(out == "t\n");
  REQUIRE(p.Run("reset " + id + " --snapshot chinook@20010101T000000Z", &out) == 1);
  CHECK(out.starts_with("zdap: error: "));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  REQUIRE(p.Run("reset nope-1", &out) == 1);
  CHECK(out == "zdap: error: clone 'nope-1' not found on any origin; see `zdap list clones`\n");
  const std::string typo = id.substr(0, id.size() - 1) + (id.back() == 'x' ? "y" : "x");
  REQUIRE(p.Run("reset " + typo, &out) == 1);
  CHECK(out ==
        "zdap: error: clone '" + typo + "' not found on any origin; did you mean " + id + "?\n");
  REQUIRE(p.Run("reset", &out) == 2);

  // extend: the printed expiry is the origin's, about 48 h from now.
  std::string before(record().at("expires_at").as_string());
  std::string extended = p.Ok("extend " + id + " --ttl 48h");
  std::string after(record().at("expires_at").as_string());
  CHECK(after > before);
  CHECK(extended == "extended clone " + id + " (expires " + after + ")\n");
  REQUIRE(p.Run("extend " + id + " --ttl soon", &out) == 1);
  CHECK(Contains(out, "'soon' is not a duration"));
  CHECK(std::string(record().at("expires_at").as_string()) == after);  // unchanged
  REQUIRE(p.Run("extend " + id, &out) == 2);
  CHECK(Contains(out, "--ttl is required"));

  // protect / unprotect: the origin's flag follows.
  CHECK(Contains(p.Ok("protect " + id), "protected, never expires"));
  CHECK(record().at("protected").as_bool());
  CHECK(Contains(p.Ok("unprotect " + id), "unprotected clone " + id));
  CHECK_FALSE(record().at("protected").as_bool());
  REQUIRE(p.Run("protect nope-1", &out) == 1);
  CHECK(Contains(out, "clone 'nope-1' not found on any origin"));
  REQUIRE(p.Run("unprotect", &out) == 2);

  // status: the origin is up with its clone; -o json says the same.
  std::string status = p.Ok("status");
  CHECK(status.starts_with("ORIGIN"));
  CHECK(Contains(status, d.Url() + "  up"));
  auto origins = boost::json::parse(p.Ok("status -o json")).at("origins").as_array();
  REQUIRE(origins.size() == 1);
  CHECK(origins[0].at("status").at("counts").at("clones").as_int64() == 1);
  REQUIRE(p.Run("status -o xml", &out) == 2);  // outside the declared choices: usage
  CHECK(Contains(out, "table, json or yaml"));

  // origin list, -v; origin remove, and again (not configured: exit 1, where to look).
  CHECK(p.Ok("origin list") == d.Url() + "\n");
  CHECK(Contains(p.Ok("origin list -v"), d.Url()));
  CHECK(Contains(p.Ok("destroy " + id), "destroyed clone " + id));

  // The daemon gone: status shows it down and fails with one line at the end.
  d.Kill(SIGKILL);
  REQUIRE(p.Run("status", &out) == 1);
  CHECK(Contains(out, d.Url() + "  down"));
  CHECK(Contains(out,
                 "\nzdap: error: none of the 1 configured origins answers; start zdapd or "
                 "check the URLs with `zdap origin list -v`\n"));
  p.Ok("origin remove " + d.Url());
  CHECK(p.Ok("origin list").empty());
  REQUIRE(p.Run("origin remove " + d.Url(), &out) == 1);
  CHECK(out == "zdap: error: origin " + d.Url() + " is not configured; see `zdap origin list`\n");
  REQUIRE(p.Run("origin remove", &out) == 2);
  REQUIRE(p.Run("status", &out) == 1);
  CHECK(out ==
        "zdap: error: no origin configured; add one with `zdap origin add URL [--token "
        "T]`\n");
}
