// Crash torture (issue 10, acceptance 2): kill -9 zdapd at a random moment during refresh,
// create and destroy -- also at the instant a clone's server process appears, before its pid
// file -- then restart it. After every restart nothing may exist that the catalog does not
// list (server process, volume, run dir, secret, listening clone port, journal entry), no
// record may be half-made, and every listed clone answers psql.
//
// Seeded: ZDAP_TORTURE_SEED=<n> replays a run (the seed is printed); ZDAP_TORTURE_ITERATIONS
// sets the count (default 30).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
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
};

// The catalog as on disk (<data_dir>/catalog/<id>.json).
std::map<std::string, Record> Catalog(const std::string& data_dir) {
  std::map<std::string, Record> out;
  for (const auto& n : DirNames(data_dir + "/catalog")) {
    if (!n.ends_with(".json")) continue;
    std::string text;
    Shell("cat " + data_dir + "/catalog/" + n, &text);
    auto v = json::parse(text).as_object();
    Record r;
    r.state = std::string(v.at("state").as_string());
    r.port = static_cast<int>(v.at("port").to_number<int64_t>());
    out[n.substr(0, n.size() - 5)] = r;
  }
  return out;
}

struct Counts {
  std::map<std::string, int> kills;  // by moment
  int checks = 0;
  int queries = 0;
  int max_clones = 0;
  int stray_processes_waited = 0;
};

// Everything the invariant says, after a restart. Returns the ready clones.
std::vector<std::string> CheckWhole(ZdapdFixture& d, const std::string& store, Counts* counts) {
  ++counts->checks;
  INFO(d.LogText());
  auto catalog = Catalog(d.data_dir());
  std::set<std::string> ids;
  std::vector<std::string> ready;
  for (const auto& [id, r] : catalog) {
    INFO("clone " << id << " is " << r.state);
    CHECK(r.state == "ready");  // nothing half-made survives a restart
    ids.insert(id);
    if (r.state == "ready") ready.push_back(id);
  }
  CHECK(DirNames(d.data_dir() + "/journal").empty());
  for (const auto& v : DirNames(store + "/clones")) CHECK(ids.count(v) == 1);
  CHECK(DirNames(store + "/volumes").empty());  // no import is running after a restart
  for (const auto& s : DirNames(d.data_dir() + "/secrets")) CHECK(ids.count(s) == 1);
  for (const auto& r : DirNames(d.data_dir() + "/run")) CHECK(ids.count(r) == 1);
  // Server processes: each runs in the data dir of a listed clone. Children of a server
  // killed by recovery may take a moment to notice; bounded wait before judging.
  auto strays = [&] {
    int n = 0;
    for (const auto& [pid, cwd] : ProcessesUnder(store)) {
      std::string id = fs::path(cwd).filename().string();
      if (cwd != store + "/clones/" + id || ids.count(id) == 0) ++n;
    }
    return n;
  };
  for (int i = 0; i < 100 && strays() > 0; ++i) {
    ++counts->stray_processes_waited;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [pid, cwd] : ProcessesUnder(store)) {
    INFO("pid " << pid << " runs in " << cwd);
    std::string id = fs::path(cwd).filename().string();
    CHECK(cwd == store + "/clones/" + id);
    CHECK(ids.count(id) == 1);
  }
  // Ports: the listed clones' ports answer, no other clone port does.
  std::set<int> ports;
  for (const auto& [id, r] : catalog) ports.insert(r.port);
  for (int p = d.clone_port_first(); p < d.clone_port_first() + d.clone_port_count(); ++p) {
    INFO("clone port " << p);
    CHECK(Listening(p) == (ports.count(p) == 1));
  }
  for (const auto& id : ready) {
    std::string out;
    INFO("clone " << id);
    CHECK(Psql(catalog[id].port, d.Password(id), "select count(*) from artist", &out) == 0);
    CHECK(out.find("275") != std::string::npos);
    ++counts->queries;
  }
  counts->max_clones = std::max<int>(counts->max_clones, static_cast<int>(ready.size()));
  return ready;
}

}  // namespace

TEST_CASE("kill -9 during refresh, create and destroy leaves nothing the catalog does not list",
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

  ZdapdFixture d;
  std::string out;
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  std::string store = Canonical(d.data_dir() + "/store");
  d.Start();
  Counts counts;
  std::vector<std::string> ready = CheckWhole(d, store, &counts);
  int made = 0;

  auto create_async = [&](const std::string& name) {
    return std::thread([&d, name] {
      std::string body;
      d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"" + name + "\"}", &body);
    });
  };
  for (int it = 0; it < iterations; ++it) {
    int pick = uniform(0, 9);
    std::string moment;
    std::thread op;
    if (pick < 2) {
      // Refresh: from its start through import and seal, killed anywhere in between.
      op = std::thread([&d] {
        std::string o;
        d.Host("refresh chinook", &o);
      });
      // Once its import volume exists (the daemon runs it, not a host command that found the
      // daemon gone), at a random moment of import, stop or seal.
      auto until = SteadyClock::now() + std::chrono::seconds(20);
      while (DirNames(store + "/volumes").empty() && SteadyClock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 2500)));
      moment = "refresh";
    } else if (pick < 4) {
      // Create, killed the instant the clone's server process exists (before its pid file).
      std::string name = "t" + std::to_string(made++);
      op = create_async(name);
      std::string dir = store + "/clones/" + name;
      auto until = SteadyClock::now() + std::chrono::seconds(20);
      bool seen = false;
      while (!seen && SteadyClock::now() < until) {
        for (const auto& [pid, cwd] : ProcessesUnder(store)) seen = seen || cwd == dir;
      }
      moment = seen ? "create: server appears" : "create: server never appeared";
    } else if (pick < 7 || ready.empty() || ready.size() >= 8) {
      if (ready.size() >= 8) {
        // Too many clones for the port range: destroy instead (below) next time.
        std::string body;
        REQUIRE(d.Call("DELETE", "/v1/clones/" + ready.back(), "", &body) == 204);
        ready.pop_back();
      }
      std::string name = "t" + std::to_string(made++);
      op = create_async(name);
      std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 600)));
      moment = "create";
    } else {
      std::string victim =
          ready[static_cast<size_t>(uniform(0, static_cast<int>(ready.size()) - 1))];
      op = std::thread([&d, victim] {
        std::string body;
        d.Call("DELETE", "/v1/clones/" + victim, "", &body);
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(uniform(0, 300)));
      moment = "destroy";
    }
    d.Kill(SIGKILL);
    op.join();  // the request fails (or finished just before the kill)
    ++counts.kills[moment];
    d.Start();
    INFO("iteration " << it << ": killed during " << moment << " (seed " << seed << ")");
    ready = CheckWhole(d, store, &counts);
  }
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - started);
  std::cout << "crash torture: " << iterations << " kills in " << secs.count() << " s:";
  for (const auto& [moment, n] : counts.kills) std::cout << " " << moment << " " << n << ";";
  std::cout << " " << counts.checks << " checks, " << counts.queries << " clone queries, at most "
            << counts.max_clones << " clones, " << counts.stray_processes_waited
            << " waits for stray processes" << std::endl;
  CHECK(counts.kills["create: server never appeared"] == 0);
}
