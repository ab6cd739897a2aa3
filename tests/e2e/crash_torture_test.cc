// Crash torture (issue 10, acceptance 2): kill -9 zdapd at a random moment during refresh,
// create, destroy, reset, claim (from a pool of 1) and branch -- also at the instant a
// clone's server process appears, before its pid file, and at the instants a reset's new
// server, a claim's staged password and a branch's copy appear -- then restart it. After
// every restart nothing may exist that the catalog does not list (server process, volume,
// run dir, secret, listening clone port, journal entry), no record may be half-made, no
// snapshot half-made, and every listed clone (pool clones too) answers psql with the
// password the API gives for it.
//
// Seeded: ZDAP_TORTURE_SEED=<n> replays a run (the seed is printed); ZDAP_TORTURE_ITERATIONS
// sets the count (default 30). The operations come from a shuffled deck, so each kind is
// killed about as often as the others.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "zdapd_fixture.h"

using namespace zdap::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Canonical(const std::string& p) {
  return fs::weakly_canonical(fs::absolute(p)).string();
}

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (!n.empty() && n[0] != '.') out.push_back(n);
  }
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes running in a directory under `root` (the store): pid -> cwd. Read straight from
// /proc, independently of the runtime under test.
std::map<pid_t, std::string> ProcessesUnder(const std::string& root) {
  std::map<pid_t, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string n = e.path().filename().string();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    std::string cwd = fs::read_symlink(e.path() / "cwd", ec2).string();
    if (!ec2 && cwd.rfind(root + "/", 0) == 0) out[std::stoi(n)] = cwd;
  }
  return out;
}

bool Listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

struct Record {
  std::string state;
  int port = 0;
  std::string volume;  // the clone's volume in the store (a reset gives it a new one)
  std::string snapshot;
  bool pooled = false;
  std::string owner;  // "" for a pool clone
};

// The catalog as on disk (<data_dir>/catalog/<id>.json).
std::map<std::string, Record> Catalog(const std::string& data_dir) {
  std::map<std::string, Record> out;
  for (const auto& n : DirNames(data_dir + "/catalog")) {
    if (!n.ends_with(".json")) continue;
    auto v = json::parse(ReadText(data_dir + "/catalog/" + n)).as_object();
    Record r;
    std::string id = n.substr(0, n.size() - 5);
    r.state = std::string(v.at("state").as_string());
    r.port = static_cast<int>(v.at("port").to_number<int64_t>());
    r.volume = v.contains("volume") ? std::string(v.at("volume").as_string()) : id;
    r.snapshot = std::string(v.at("snapshot").as_string());
    r.pooled = v.contains("pooled") && v.at("pooled").as_bool();
    r.owner = v.contains("owner") ? std::string(v.at("owner").as_string()) : "";
    out[id] = r;
  }
  return out;
}

std::string NewestSnapshot(const std::string& store) {
  auto names = DirNames(store + "/snapshots");
  return names.empty() ? "" : *std::max_element(names.begin(), names.end());
}

// Polls `done` without pause (the moments watched for last milliseconds) for at most `limit`.
bool SpinUntil(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  auto until = SteadyClock::now() + limit;
  while (SteadyClock::now() < until) {
    if (done()) return true;
  }
  return false;
}

struct Counts {
  std::map<std::string, int> ops;    // by operation
  std::map<std::string, int> kills;  // by moment
  int checks = 0;
  int queries = 0;
  int max_clones = 0;
  int stray_processes_waited = 0;
  std::map<std::string, double> seconds;  // where the time went
};

void AddTime(Counts* counts, const std::string& what, SteadyClock::time_point since) {
  counts->seconds[what] += std::chrono::duration<double>(SteadyClock::now() - since).count();
}

// Everything the invariant says, after a restart. Returns the catalog.
std::map<std::string, Record> CheckWhole(ZdapdFixture& d, const std::string& store,
                                         Counts* counts) {
  auto started = SteadyClock::now();
  ++counts->checks;
  INFO(d.LogText());
  // Recovery ran before the daemon answered, but the pool's refill may already be making a
  // clone: the daemon settles first (bounded), with one ready pool clone of the newest
  // snapshot, every record ready and the journal empty. Anything recovery left half-made
  // (a record creating, deleting or failed, an entry it could not finish) never settles.
  std::map<std::string, Record> catalog;
  bool settled = PollUntil(std::chrono::seconds(60), std::chrono::milliseconds(10), [&] {
    catalog = Catalog(d.data_dir());
    std::string newest = NewestSnapshot(store);
    int pool = 0;
    for (const auto& [id, r] : catalog) {
      if (r.state != "ready") return false;
      if (r.pooled) pool += r.snapshot == newest ? 1 : 100;
    }
    return pool == 1 && DirNames(d.data_dir() + "/journal").empty();
  });
  for (const auto& [id, r] : catalog) {
    INFO("clone " << id << " is " << r.state);
    CHECK(r.state == "ready");
  }
  CHECK(DirNames(d.data_dir() + "/journal").empty());
  CHECK(settled);
  std::set<std::string> ids, volumes;
  for (const auto& [id, r] : catalog) {
    ids.insert(id);
    volumes.insert(r.volume);
  }
  for (const auto& v : DirNames(store + "/clones")) {
    INFO("clone volume " << v);
    CHECK(volumes.count(v) == 1);
  }
  // No import or half-made branch snapshot survives (both are unsealed volumes).
  CHECK(DirNames(store + "/volumes").empty());
  for (const auto& s : DirNames(d.data_dir() + "/secrets")) CHECK(ids.count(s) == 1);
  for (const auto& r : DirNames(d.data_dir() + "/run")) CHECK(ids.count(r) == 1);
  // Server processes: each runs in the volume of a listed clone. Children of a server killed
  // by recovery may take a moment to notice; bounded wait before judging.
  auto stray = [&](const std::string& cwd) {
    std::string v = fs::path(cwd).filename().string();
    return cwd != store + "/clones/" + v || volumes.count(v) == 0;
  };
  auto strays = [&] {
    int n = 0;
    for (const auto& [pid, cwd] : ProcessesUnder(store)) n += stray(cwd) ? 1 : 0;
    return n;
  };
  for (int i = 0; i < 100 && strays() > 0; ++i) {
    ++counts->stray_processes_waited;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [pid, cwd] : ProcessesUnder(store)) {
    INFO("pid " << pid << " runs in " << cwd);
    CHECK_FALSE(stray(cwd));
  }
  // Ports: the listed clones' ports answer, no other clone port does.
  std::set<int> ports;
  for (const auto& [id, r] : catalog) ports.insert(r.port);
  for (int p = d.clone_port_first(); p < d.clone_port_first() + d.clone_port_count(); ++p) {
    INFO("clone port " << p);
    CHECK(Listening(p) == (ports.count(p) == 1));
  }
  // Every clone answers with the password its owner gets from the API, a pool clone (nobody's
  // yet) with its secret file's: a claim cut short left a password the server and the secret
  // file agree on. The admin sees every clone, without its password (it owns none).
  for (const auto& [id, r] : catalog) {
    std::string body, out, password;
    INFO("clone " << id);
    REQUIRE(d.AdminCall("GET", "/v1/clones/" + id, "", &body) == 200);
    CHECK(JsonField(body, "pooled") == (r.pooled ? "true" : "false"));
    CHECK(JsonField(body, "password").empty());
    if (r.pooled) {
      password = ReadText(d.data_dir() + "/secrets/" + id);
    } else {
      REQUIRE(d.Call("GET", "/v1/clones/" + id, "", &body, r.owner) == 200);
      password = JsonField(body, "password");
    }
    CHECK(Psql(r.port, password, "select count(*) from artist", &out) == 0);
    CHECK(out.find("275") != std::string::npos);
    ++counts->queries;
  }
  counts->max_clones = std::max<int>(counts->max_clones, static_cast<int>(catalog.size()));
  AddTime(counts, "checks", started);
  return catalog;
}

// A dump as small as a test can use: the one table the checks query (275 rows, as in
// Chinook), so that a refresh is mostly the engine's own start and stop.
std::string WriteSmallDump(const std::string& dir) {
  std::string path = dir + "/artist.sql";
  std::ofstream(path) << "CREATE TABLE artist (artist_id integer PRIMARY KEY, name text);\n"
                         "INSERT INTO artist SELECT g, 'artist ' || g FROM generate_series(1, "
                         "275) AS g;\n";
  return path;
}

}  // namespace

TEST_CASE(
    "kill -9 during refresh, create, destroy, reset, claim and branch leaves nothing the "
    "catalog does not list",
    "[e2e][crash]") {
  auto started = SteadyClock::now();
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("ZDAP_TORTURE_SEED"); s && *s) seed = std::stoull(s);
  int iterations = 30;
  if (const char* s = std::getenv("ZDAP_TORTURE_ITERATIONS"); s && *s) iterations = std::stoi(s);
  std::cout << "crash torture: seed " << seed << " (replay with ZDAP_TORTURE_SEED=" << seed << "), "
            << iterations << " iterations" << std::endl;
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };

  TempDir dumps("zdap-torture");
  ::chmod(dumps.path().c_str(), 0755);  // the import runs as the database servers' user
  ZdapdFixture d(
      "", "name: chinook\nengine: postgres\nsource:\n  dump: " + WriteSmallDump(dumps.path()) +
              "\n  database: chinook\nclone:\n  ttl: 1h\npool: {min: 1, max: 1}\n"
              "refresh:\n  keep: 2\ncredentials: {user: postgres, password: zdap}\n");
  std::string out;
  auto refresh_started = SteadyClock::now();
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  // Refresh kills land anywhere in a refresh's run, as long as this one took.
  int refresh_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - refresh_started)
          .count());
  std::string store = Canonical(d.data_dir() + "/store");
  d.Start();
  Counts counts;
  auto catalog = CheckWhole(d, store, &counts);
  int made = 0;

  // The clones alice owns and that are ready.
  auto owned = [&] {
    std::vector<std::string> ids;
    for (const auto& [id, r] : catalog) {
      if (!r.pooled && r.state == "ready") ids.push_back(id);
    }
    return ids;
  };
  auto call_async = [&d](std::string method, std::string path, std::string body) {
    return std::thread([&d, method, path, body] {
      std::string reply;
      d.Call(method, path, body, &reply);
    });
  };

  std::vector<std::string> deck;
  const std::vector<std::string> kinds = {
      "refresh", "create: server appears", "create", "destroy", "reset", "claim", "branch"};
  while (static_cast<int>(deck.size()) < iterations) {
    deck.insert(deck.end(), kinds.begin(), kinds.end());
  }
  deck.resize(static_cast<size_t>(iterations));
  std::shuffle(deck.begin(), deck.end(), rng);

  for (int it = 0; it < iterations; ++it) {
    auto op_started = SteadyClock::now();
    std::string op = deck[static_cast<size_t>(it)];
    std::vector<std::string> mine = owned();
    std::string body;
    // Operations on a clone need one (kills undo most creates); at most 6 of alice's clones
    // keep the ports free.
    if ((op == "destroy" || op == "reset" || op == "branch") && mine.empty()) {
      std::string name = "t" + std::to_string(made++);
      INFO(d.LogText());
      REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"" + name + "\"}",
                     &body) == 201);
      catalog[name] = Record{.state = "ready",
                             .port = std::stoi(JsonField(body, "port")),
                             .volume = name,
                             .snapshot = JsonField(body, "snapshot"),
                             .owner = "alice"};
      mine.push_back(name);
    }
    if ((op == "create" || op == "create: server appears" || op == "claim") && mine.size() >= 6) {
      REQUIRE(d.Call("DELETE", "/v1/clones/" + mine.back(), "", &body) == 204);
      mine.pop_back();
    }
    std::string victim =
        mine.empty() ? ""
                     : mine[static_cast<size_t>(uniform(0, static_cast<int>(mine.size()) - 1))];
    bool at_instant = uniform(0, 1) == 1;
    std::string moment = op;
    std::thread thread;
    if (op == "refresh") {
      // Started through the API (a job: 202 at once; a host command would wait out the
      // vanished daemon); once its import volume exists, killed at a random moment of
      // import, stop or seal.
      INFO(d.LogText());
      REQUIRE(d.AdminCall("POST", "/v1/resources/chinook/snapshots", "", &body) == 202);
      PollUntil(std::chrono::seconds(20), std::chrono::milliseconds(10),
                [&] { return !DirNames(store + "/volumes").empty(); });
      std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, refresh_ms)));
    } else if (op == "create: server appears") {
      // Killed the instant the clone's server process exists (before its pid file).
      std::string name = "t" + std::to_string(made++);
      thread = call_async("POST", "/v1/resources/chinook/clones", "{\"name\":\"" + name + "\"}");
      std::string dir = store + "/clones/" + name;
      bool seen = SpinUntil(std::chrono::seconds(20), [&] {
        for (const auto& [pid, cwd] : ProcessesUnder(store)) {
          if (cwd == dir) return true;
        }
        return false;
      });
      if (!seen) moment = "create: server never appeared";
    } else if (op == "create") {
      std::string name = "t" + std::to_string(made++);
      thread = call_async("POST", "/v1/resources/chinook/clones", "{\"name\":\"" + name + "\"}");
      std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 400)));
    } else if (op == "destroy") {
      thread = call_async("DELETE", "/v1/clones/" + victim, "");
      std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 300)));
    } else if (op == "reset") {
      thread = call_async("POST", "/v1/clones/" + victim + "/reset", "");
      if (at_instant) {
        // The instant the server on the new volume appears (before the record has its pid).
        std::string current = store + "/clones/" + catalog[victim].volume;
        std::string prefix = store + "/clones/" + victim + ".";
        bool seen = SpinUntil(std::chrono::seconds(20), [&] {
          for (const auto& [pid, cwd] : ProcessesUnder(store)) {
            if (cwd.rfind(prefix, 0) == 0 && cwd != current) return true;
          }
          return false;
        });
        moment = seen ? "reset: new server appears" : "reset: new server not seen";
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 600)));
      }
    } else if (op == "claim") {
      thread = call_async("POST", "/v1/resources/chinook/claim", "");
      if (at_instant) {
        // The instant the new password is staged: the server may or may not have it yet.
        bool seen = SpinUntil(std::chrono::seconds(5), [&] {
          for (const auto& s : DirNames(d.data_dir() + "/secrets")) {
            if (s.ends_with(".next")) return true;
          }
          return false;
        });
        moment = seen ? "claim: password staged" : "claim: staged password not seen";
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 60)));
      }
    } else {  // branch
      thread = call_async("POST", "/v1/clones/" + victim + "/snapshot", "");
      if (at_instant) {
        // The instant the store starts the copy (an unsealed volume of the snapshot's name).
        bool seen = SpinUntil(std::chrono::seconds(20),
                              [&] { return !DirNames(store + "/volumes").empty(); });
        moment = seen ? "branch: copy begun" : "branch: copy not seen";
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 500)));
      }
    }
    d.Kill(SIGKILL);
    if (thread.joinable()) thread.join();  // the request fails (or finished before the kill)
    ++counts.ops[op];
    ++counts.kills[moment];
    AddTime(&counts, "operations", op_started);
    auto restart = SteadyClock::now();
    d.Start();
    AddTime(&counts, "restarts", restart);
    INFO("iteration " << it << ": killed during " << moment << " (seed " << seed << ")");
    catalog = CheckWhole(d, store, &counts);
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - started);
  std::cout << "crash torture: " << iterations << " kills in " << secs.count()
            << " s; by operation:";
  for (const auto& [op, n] : counts.ops) std::cout << " " << op << " " << n << ";";
  std::cout << " by moment:";
  for (const auto& [moment, n] : counts.kills) std::cout << " " << moment << " " << n << ";";
  std::cout << " " << counts.checks << " checks, " << counts.queries << " clone queries, at most "
            << counts.max_clones << " clones, " << counts.stray_processes_waited
            << " waits for stray processes; time (s):";
  for (const auto& [what, s] : counts.seconds) std::cout << " " << what << " " << int(s) << ";";
  std::cout << std::endl;
  CHECK(counts.kills["create: server never appeared"] == 0);
  if (iterations >= static_cast<int>(kinds.size())) {
    for (const auto& kind : kinds) {
      INFO(kind);
      CHECK(counts.ops[kind] > 0);
    }
  }
}
