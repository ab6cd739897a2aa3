// Progress on a terminal, through the built binary on a real pseudo-terminal (script(1) from
// util-linux) and off one: a slow `attach` shows a spinner with the step it is on and erases
// it, warnings and errors land on lines of their own, -q shows nothing but the clone id;
// `clone` shows its step too; `refresh --wait` draws its progress bar on the terminal and
// leaves stdout to the result.
// Off a terminal neither prints a step line.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "fake_origin.h"
#include "support/test_env.h"

namespace zdap {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr const char kErase[] = "\r\x1b[K";
constexpr const char kNotFound[] = R"({"error":{"code":"not_found","message":"not found"}})";

std::string CloneJson(int n) {
  return R"({"id":"chinook-)" + std::to_string(n) +
         R"(","resource":"chinook","snapshot":"chinook@20261122T030405Z",)"
         R"("owner":"alice","state":"ready","host":"db1.zdap.test","port":)" +
         std::to_string(6000 + n) +
         R"(,"database":"chinook","user":"postgres","password":"zdap",)"
         R"("uri":"postgres://postgres:zdap@db1.zdap.test:6001/chinook",)"
         R"("created_at":"2026-11-22T03:04:05Z","expires_at":null,"protected":false,)"
         R"("pooled":false,"origin":"","engine":"postgres"})";
}

std::string JobJson(const std::string& state, const std::string& phase, int done, int total,
                    const std::string& snapshot = "") {
  auto str = [](const std::string& s) { return s.empty() ? std::string("null") : "\"" + s + "\""; };
  return R"({"id":"job-1","resource":"chinook","kind":"refresh","state":")" + state +
         R"(","phase":)" + str(phase) + R"(,"bytes_done":)" + std::to_string(done) +
         R"(,"bytes_total":)" + std::to_string(total) +
         R"(,"started_at":null,"finished_at":null,"elapsed_ms":2500,"snapshot":)" + str(snapshot) +
         R"(,"error":null,"log_tail":[]})";
}

// An origin with the resource chinook whose first clone creation takes `create_delay` (a slow
// origin, the condition under test) and fails with 503 when `fail_create`; its first DELETE
// takes `delete_delay`, and a DELETE of clone `refuse_delete` fails with 503; its refresh job
// goes import 20, 40 of 40 MiB -> done in three polls.
test::FakeOrigin::Handler Origin(std::chrono::milliseconds create_delay, bool fail_create,
                                 std::chrono::milliseconds delete_delay = {},
                                 std::string refuse_delete = "") {
  return [=, clones = 0, polls = 0,
          deletes = 0](const test::FakeRequest& r) mutable -> test::FakeReply {
    if (r.target == "/v1/health") return {200, R"({"status":"ok","version":"0.1.0"})"};
    if (r.target == "/v1/status") {
      return {200, R"({"version":"0.1.0","storage":{"driver":"copy","free_bytes":1000},)"
                   R"("runtime":{"driver":"process"},"resources":[{"name":"chinook"}]})"};
    }
    if (r.method == "GET" && r.target == "/v1/resources") {
      return {200, R"({"resources":[{"name":"chinook","engine":"postgres","version":"15",)"
                   R"("database":"chinook","snapshots":[],"clones":[]}]})"};
    }
    if (r.method == "POST" && r.target == "/v1/resources/chinook/clones") {
      if (clones == 0) std::this_thread::sleep_for(create_delay);  // the first attach is slow
      if (fail_create) {
        return {503, R"({"error":{"code":"unavailable","message":"no free port for a clone"}})"};
      }
      return {201, CloneJson(++clones)};
    }
    if (r.method == "POST" && r.target == "/v1/resources/chinook/snapshots") {
      return {202, R"({"job":)" + JobJson("queued", "", 0, 0) + "}"};
    }
    if (r.target == "/v1/jobs/job-1") {
      constexpr int kMiB = 1 << 20;
      int n = ++polls;
      if (n < 3) return {200, JobJson("running", "import", n * 20 * kMiB, 40 * kMiB)};
      return {200, JobJson("done", "snapshot", 40 * kMiB, 40 * kMiB, "chinook@20261130T120000Z")};
    }
    if (r.method == "DELETE") {
      if (deletes++ == 0) std::this_thread::sleep_for(delete_delay);
      if (!refuse_delete.empty() && r.target == "/v1/clones/" + refuse_delete) {
        return {503, R"({"error":{"code":"unavailable","message":"the clone is busy"}})"};
      }
      return {204, ""};
    }
    return {404, kNotFound};
  };
}

// An origin that answers but has no resource chinook: placement skips it with a warning.
test::FakeOrigin::Handler Empty() {
  return [](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/health") return {200, R"({"status":"ok","version":"0.1.0"})"};
    if (r.target == "/v1/status") {
      return {200, R"({"version":"0.1.0","storage":{"driver":"copy","free_bytes":9000},)"
                   R"("runtime":{"driver":"process"},"resources":[]})"};
    }
    if (r.target == "/v1/resources") return {200, R"({"resources":[]})"};
    return {404, kNotFound};
  };
}

struct Project {
  test::TempDir dir{"zdap-progress"};
  Project() {
    std::ofstream(dir.path() + "/docker-compose.yml")
        << "services:\n  db:\n    image: postgres:15\n    ports: [\"5432\"]\n"
        << "  app:\n    image: busybox\n";
  }
  std::string Env() const {
    return "cd '" + dir.path() + "' && export ZDAP_CONFIG='" + dir.path() + "/config.yaml'; ";
  }
  std::string Zdap() const { return test::ProgramPath("apps/zdap/zdap"); }

  // zdap ARGS off a terminal: stdout and stderr together.
  int Run(const std::string& args, std::string* out) const {
    out->clear();
    int rc = test::Shell(Env() + Zdap() + " " + args, out);
    UNSCOPED_INFO("zdap " << args << " -> " << rc << ": " << *out);
    return rc;
  }
  // zdap ARGS with stdout, stderr and stdin on a pseudo-terminal of `columns` columns (the
  // typescript in *tty, "\n" written as "\r\n"), or with only stderr there when `stdout_file`
  // is given (stdout then goes to that file, read into *stdout_text).
  int RunOnTerminal(const std::string& args, int columns, std::string* tty,
                    std::string* stdout_text = nullptr) const {
    std::string script = dir.path() + "/on-tty.sh";
    std::string out_file = dir.path() + "/stdout.txt";
    std::ofstream(script) << "stty cols " << columns << " || exit 97\n"
                          << "[ -t 2 ] || exit 98\n"
                          << "export TERM=xterm\n"
                          << Env() << "exec " << Zdap() << " " << args
                          << (stdout_text ? " > '" + out_file + "'" : std::string()) << "\n";
    tty->clear();
    int rc = test::Shell("script -qec 'sh " + script + "' /dev/null < /dev/null", tty);
    UNSCOPED_INFO("on a terminal: zdap " << args << " -> " << rc << ": " << *tty);
    REQUIRE(rc != 97);  // stty could not size the terminal: nothing was checked
    REQUIRE(rc != 98);  // script gave no terminal
    if (stdout_text) {
      std::ifstream in(out_file);
      stdout_text->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return rc;
  }
};

// What each "\r" on the terminal began: the text up to the next "\r" or the end, without
// the erase-line escapes.
std::vector<std::string> Frames(const std::string& tty) {
  std::vector<std::string> frames;
  size_t at = 0;
  while ((at = tty.find('\r', at)) != std::string::npos) {
    size_t end = tty.find('\r', at + 1);
    std::string frame = tty.substr(at + 1, end == std::string::npos ? end : end - at - 1);
    if (frame.starts_with("\x1b[K")) frame.erase(0, 3);  // an erase, then what follows it
    if (frame.ends_with("\x1b[K")) frame.resize(frame.size() - 3);
    if (!frame.empty() && frame != "\n") frames.push_back(frame);
    at = at + 1;
  }
  return frames;
}

// Animated while the origin takes its time: several spinner frames of the step that contains
// `step`, and the seconds it has taken.
void CheckAnimated(const std::string& tty, const std::string& step) {
  std::set<char> spinner;
  bool seconds = false;
  for (const std::string& f : Frames(tty)) {
    if (!Contains(f, step)) continue;
    spinner.insert(f[0]);
    seconds = seconds || Contains(f, " (1 s)");
  }
  INFO(step);
  CHECK(spinner.size() >= 2);
  CHECK(seconds);
}

}  // namespace

TEST_CASE("a slow attach shows a spinner with its step on a terminal, erased when done",
          "[progress]") {
  test::FakeOrigin slow(Origin(std::chrono::milliseconds(1500), false));
  test::FakeOrigin empty(Empty());
  Project p;
  std::string out;
  REQUIRE(p.Run("origin add " + slow.url(), &out) == 0);
  REQUIRE(p.Run("origin add " + empty.url(), &out) == 0);
  REQUIRE(p.Run("user set alice", &out) == 0);
  REQUIRE(p.Run("init", &out) == 0);

  // stderr on the terminal, stdout into a file: the spinner, the steps, then nothing left.
  std::string tty, result;
  REQUIRE(p.RunOnTerminal("attach chinook --service db", 200, &tty, &result) == 0);
  CHECK(Contains(tty, "placing: asking 2 origins for room"));
  CHECK(Contains(tty, "creating a clone of chinook on " + slow.url()));
  CHECK(Contains(tty, "writing docker-compose.override.yml"));
  // The warning about the origin without the resource is a line of its own, the spinner
  // erased before it.
  CHECK(Contains(tty, std::string(kErase) + "zdap: warning: origin " + empty.url() +
                          " skipped: has no resource 'chinook'\r\n"));
  CheckAnimated(tty, "creating a clone of chinook");
  CHECK(tty.ends_with(kErase));  // erased when done
  // stdout is the result alone.
  CHECK(
      result.starts_with("attached chinook (clone chinook-1, chinook@20261122T030405Z) as "
                         "service 'db' in docker-compose.override.yml"));
  CHECK(std::count(result.begin(), result.end(), '\n') == 1);
  CHECK_FALSE(Contains(result, "\r"));
  CHECK_FALSE(Contains(result, "\x1b"));
  REQUIRE(p.Run("detach db", &out) == 0);

  // Everything on the terminal: the result is the last line, after the erased spinner.
  REQUIRE(p.RunOnTerminal("attach chinook --service db", 200, &tty) == 0);
  CHECK(Contains(tty, std::string(kErase) + "attached chinook (clone chinook-2,"));
  CHECK(tty.ends_with("-> db1.zdap.test:6002\r\n"));
  REQUIRE(p.Run("detach db", &out) == 0);

  // A narrow terminal: no drawn line is as wide as the terminal (it would wrap, and "\r"
  // would leave the wrapped part behind).
  REQUIRE(p.RunOnTerminal("attach chinook --service db", 30, &tty, &result) == 0);
  for (const std::string& f : Frames(tty)) {
    if (f.starts_with("zdap: warning")) continue;
    INFO(f);
    CHECK(f.size() < 30);
  }
  CHECK(Contains(tty, "creating a clone of"));
  REQUIRE(p.Run("detach db", &out) == 0);

  // -q on a terminal: no spinner, only the clone id (the warning stays: it is on stderr).
  REQUIRE(p.RunOnTerminal("attach chinook --service db -q", 200, &tty, &result) == 0);
  CHECK(result == "chinook-4\n");
  CHECK_FALSE(Contains(tty, "\x1b"));
  CHECK_FALSE(Contains(tty, "creating"));
  REQUIRE(p.Run("detach db", &out) == 0);

  // Off a terminal: no step lines, no escapes; the warning and the result line.
  REQUIRE(p.Run("attach chinook --service db", &out) == 0);
  CHECK(out == "zdap: warning: origin " + empty.url() +
                   " skipped: has no resource 'chinook'\nattached chinook (clone chinook-5, "
                   "chinook@20261122T030405Z) as service 'db' in docker-compose.override.yml: "
                   "proxy :5432 -> db1.zdap.test:6005\n");
  REQUIRE(p.Run("detach db", &out) == 0);
  // TERM=dumb cannot erase a line: no spinner there either.
  std::string dumb;
  REQUIRE(test::Shell("script -qec \"sh -c '" + p.Env() + "TERM=dumb " + p.Zdap() +
                          " attach chinook --service db > /dev/null'\" /dev/null < /dev/null",
                      &dumb) == 0);
  CHECK_FALSE(Contains(dumb, "\x1b"));
  CHECK_FALSE(Contains(dumb, "creating"));
}

TEST_CASE("a failed attach erases its spinner before the one error line", "[progress]") {
  test::FakeOrigin failing(Origin(std::chrono::milliseconds(0), true));
  Project p;
  std::string out;
  REQUIRE(p.Run("origin add " + failing.url(), &out) == 0);
  REQUIRE(p.Run("init", &out) == 0);
  std::string tty;
  CHECK(p.RunOnTerminal("attach chinook --service db", 200, &tty) == 1);
  CHECK(Contains(tty, "creating a clone of chinook on " + failing.url()));
  // After the last erase: exactly the error line.
  size_t erased = tty.rfind(kErase);
  REQUIRE(erased != std::string::npos);
  std::string after = tty.substr(erased + std::strlen(kErase));
  CHECK(after.starts_with("zdap: error: "));
  CHECK(Contains(after, "no free port for a clone"));
  CHECK(after.find("\r\n") == after.size() - 2);
  // Nothing was written.
  CHECK_FALSE(std::filesystem::exists(p.dir.path() + "/docker-compose.override.yml"));
}

TEST_CASE("clone shows its step on the terminal; stdout keeps only what to eval", "[progress]") {
  test::FakeOrigin origin(Origin(std::chrono::milliseconds(0), false));
  Project p;
  std::string out, tty, result;
  REQUIRE(p.Run("origin add " + origin.url(), &out) == 0);
  REQUIRE(p.RunOnTerminal("clone chinook -o env", 200, &tty, &result) == 0);
  CHECK(Contains(tty, "creating a clone of chinook on " + origin.url()));
  CHECK(tty.ends_with(kErase));
  CHECK(result.starts_with("# clone chinook-1 of chinook: PG* variables"));
  CHECK_FALSE(Contains(result, "\x1b"));
  // Off a terminal: the variables alone.
  REQUIRE(p.Run("clone chinook -o env", &out) == 0);
  CHECK(out.starts_with("# clone chinook-2 of chinook"));
  CHECK_FALSE(Contains(out, "creating"));
}

TEST_CASE("refresh --wait draws its bar on the terminal; stdout keeps only the result",
          "[progress]") {
  Project p;
  std::string out;
  std::string tty, result;
  {
    test::FakeOrigin origin(Origin(std::chrono::milliseconds(0), false));
    REQUIRE(p.Run("origin add " + origin.url(), &out) == 0);
    REQUIRE(p.RunOnTerminal("refresh chinook --wait", 200, &tty, &result) == 0);
    CHECK(Contains(tty, "[###############               ]  50% import 20.0 MiB / 40.0 MiB"));
    CHECK(Contains(tty, "[##############################] 100% import 40.0 MiB / 40.0 MiB"));
    CHECK(tty.ends_with(kErase));
    CHECK(result == "refreshed chinook: snapshot chinook@20261130T120000Z (40.0 MiB in 2.5 s)\n");
    REQUIRE(p.Run("origin remove " + origin.url(), &out) == 0);
  }
  {
    test::FakeOrigin origin(Origin(std::chrono::milliseconds(0), false));
    REQUIRE(p.Run("origin add " + origin.url(), &out) == 0);
    REQUIRE(p.RunOnTerminal("refresh chinook --wait -q", 200, &tty) == 0);
    CHECK(tty == "chinook@20261130T120000Z\r\n");  // -q: no bar at all
    REQUIRE(p.Run("origin remove " + origin.url(), &out) == 0);
  }
  {
    // Off a terminal: plain lines, no bar.
    test::FakeOrigin origin(Origin(std::chrono::milliseconds(0), false));
    REQUIRE(p.Run("origin add " + origin.url(), &out) == 0);
    REQUIRE(p.Run("refresh chinook --wait", &out) == 0);
    CHECK(Contains(out, "\nimport 20.0 MiB / 40.0 MiB\n"));
    CHECK_FALSE(Contains(out, "\r"));
    CHECK_FALSE(Contains(out, "["));
  }
}


TEST_CASE("a slow detach shows a spinner with its step on a terminal; -q and off a terminal not",
          "[progress]") {
  test::FakeOrigin slow(
      Origin(std::chrono::milliseconds(0), false, std::chrono::milliseconds(1500), "chinook-4"));
  Project p;
  std::string out;
  REQUIRE(p.Run("origin add " + slow.url(), &out) == 0);
  REQUIRE(p.Run("user set alice", &out) == 0);
  REQUIRE(p.Run("init", &out) == 0);
  std::string before;
  {
    std::ifstream in(p.dir.path() + "/docker-compose.yml");
    before.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // stderr on the terminal, stdout into a file: the steps, animated while the origin takes its
  // time to destroy, then erased; stdout is the result alone.
  REQUIRE(p.Run("attach chinook --service db", &out) == 0);
  std::string tty, result;
  REQUIRE(p.RunOnTerminal("detach db", 200, &tty, &result) == 0);
  CHECK(Contains(tty, "removing service 'db' from docker-compose.override.yml"));
  CHECK(Contains(tty, "destroying clone chinook-1 on " + slow.url()));
  CheckAnimated(tty, "destroying clone chinook-1");
  CHECK(tty.ends_with(kErase));
  CHECK(result == "detached service 'db'; destroyed clone chinook-1 on " + slow.url() + "\n");
  CHECK_FALSE(std::filesystem::exists(p.dir.path() + "/docker-compose.override.yml"));

  // Everything on the terminal: the result is the last line, after the erased spinner.
  REQUIRE(p.Run("attach chinook --service db", &out) == 0);
  REQUIRE(p.RunOnTerminal("detach db --keep", 200, &tty) == 0);
  CHECK(Contains(tty, std::string(kErase) + "detached service 'db'; kept clone chinook-2 on "));
  CHECK(tty.ends_with("(db1.zdap.test:6002)\r\n"));

  // -q on a terminal: nothing at all, the service gone all the same.
  REQUIRE(p.Run("attach chinook --service db", &out) == 0);
  REQUIRE(p.RunOnTerminal("detach db -q", 200, &tty, &result) == 0);
  CHECK(result.empty());
  CHECK(tty.empty());
  CHECK_FALSE(std::filesystem::exists(p.dir.path() + "/docker-compose.override.yml"));

  // A clone the origin will not destroy: the spinner is erased before the one error line, the
  // exit status is 1, and the service is gone.
  REQUIRE(p.Run("attach chinook --service db", &out) == 0);
  CHECK(p.RunOnTerminal("detach db", 200, &tty) == 1);
  CHECK(Contains(tty, "destroying clone chinook-4 on " + slow.url()));
  CHECK(
      Contains(tty, std::string(kErase) + "zdap: error: origin " + slow.url() +
                        ": the clone is busy; destroy it later with `zdap destroy chinook-4`\r\n"));

  // Off a terminal: the result line only, no escapes.
  REQUIRE(p.Run("attach chinook --service db", &out) == 0);
  REQUIRE(p.Run("detach db", &out) == 0);
  CHECK(out == "detached service 'db'; destroyed clone chinook-5 on " + slow.url() + "\n");
  std::string after;
  {
    std::ifstream in(p.dir.path() + "/docker-compose.yml");
    after.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  CHECK(after == before);
}

}  // namespace zdap
