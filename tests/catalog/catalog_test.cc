// The catalog on a real directory: clone records round-trip, malformed ones are refused (and
// set aside on open, never dropped), and the clone port allocator on real sockets.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>

#include "catalog/catalog.h"
#include "catalog/clone_record.h"
#include "catalog/port_allocator.h"
#include "core/file_util.h"
#include "support/test_env.h"
#include "support/test_ports.h"

namespace zdap::catalog {
namespace {

CloneRecord Sample(const std::string& id) {
  CloneRecord r;
  r.id = id;
  r.resource = "chinook";
  r.snapshot = "chinook@20261122T030405Z";
  r.owner = "alice";
  r.state = CloneState::kReady;
  r.port = 6001;
  r.pid = 4242;
  r.container_id = "3f2a9c";
  r.created_at = *ParseRfc3339("2026-11-22T03:04:05Z");
  r.expires_at = *ParseRfc3339("2026-11-22T11:04:05Z");
  r.is_protected = true;
  r.pooled = false;
  return r;
}

bool Same(const CloneRecord& a, const CloneRecord& b) {
  return a.id == b.id && a.resource == b.resource && a.snapshot == b.snapshot &&
         a.owner == b.owner && a.state == b.state && a.port == b.port && a.pid == b.pid &&
         a.container_id == b.container_id && a.created_at == b.created_at &&
         a.expires_at == b.expires_at && a.is_protected == b.is_protected && a.pooled == b.pooled &&
         a.volume == b.volume && a.error == b.error;
}

// A listening socket on 127.0.0.1:port, closed on destruction: "another program's port".
struct Listener {
  int fd;
  explicit Listener(int port) : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
  }
  ~Listener() { ::close(fd); }
};

}  // namespace

TEST_CASE("catalog: a record round-trips through its on-disk form", "[catalog]") {
  for (CloneState s :
       {CloneState::kCreating, CloneState::kReady, CloneState::kFailed, CloneState::kDeleting}) {
    CloneRecord r = Sample("chinook-7f3a");
    r.state = s;
    if (s == CloneState::kFailed) r.error = "reset x: the postgres server exited during start-up";
    INFO(CloneStateName(s));
    auto back = ParseRecord(SerializeRecord(r));
    REQUIRE(back.ok());
    CHECK(Same(*back, r));
  }
  CloneRecord no_expiry = Sample("chinook-b2c4");
  no_expiry.expires_at.reset();
  no_expiry.container_id.clear();
  auto back = ParseRecord(SerializeRecord(no_expiry));
  REQUIRE(back.ok());
  CHECK(Same(*back, no_expiry));
  CHECK(SerializeRecord(no_expiry).find("\"error\"") == std::string::npos);
  // An oversized reason is cut, not refused: the record stays readable.
  CloneRecord loud = Sample("chinook-c3d5");
  loud.state = CloneState::kFailed;
  loud.error = std::string(5000, 'e');
  back = ParseRecord(SerializeRecord(loud));
  REQUIRE(back.ok());
  CHECK(back->error.size() == CloneRecord::kMaxErrorBytes);
  // No secret is written: the record has no password field at all.
  CHECK(SerializeRecord(Sample("x1")).find("password") == std::string::npos);
}

TEST_CASE("catalog: malformed records are refused with a reason", "[catalog]") {
  const std::string good = SerializeRecord(Sample("chinook-7f3a"));
  auto with = [&](const char* key, boost::json::value v) {
    boost::json::object o = boost::json::parse(good).as_object();
    if (v.is_null()) {
      o.erase(key);
    } else {
      o[key] = std::move(v);
    }
    return boost::json::serialize(o);
  };
  std::vector<std::string> bad = {
      "",
      "{",
      "[]",
      "null",
      "\"chinook\"",
      good.substr(0, good.size() / 2),
      with("id", nullptr),
      with("id", "../etc/passwd"),
      with("id", "a/b"),
      with("id", 12),
      with("state", "sleeping"),
      with("port", -1),
      with("port", 65536),
      with("port", "6001"),
      with("created_at", "yesterday"),
      with("created_at", nullptr),
      with("expires_at", "2026-13-45T99:00:00Z"),
      with("owner", boost::json::array{}),
      std::string(2 << 20, '{'),
  };
  for (const auto& text : bad) {
    INFO(text.substr(0, 200));
    auto r = ParseRecord(text);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK_FALSE(r.status().message().empty());
  }
}

TEST_CASE("catalog: records persist, conflict, and survive reopening", "[catalog]") {
  test::TempDir dir("zdap-catalog");
  const std::string cat_dir = dir.path() + "/catalog";
  {
    auto c = Catalog::Open(cat_dir);
    REQUIRE(c.ok());
    REQUIRE((*c)->List().empty());
    REQUIRE((*c)->Insert(Sample("b-clone")).ok());
    REQUIRE((*c)->Insert(Sample("a-clone")).ok());
    CHECK((*c)->Insert(Sample("a-clone")).code() == Code::kConflict);
    CloneRecord missing = Sample("zz-none");
    CHECK((*c)->Update(missing).code() == Code::kNotFound);
    CHECK_FALSE(PathExists(cat_dir + "/zz-none.json"));
    CloneRecord changed = Sample("b-clone");
    changed.state = CloneState::kDeleting;
    changed.port = 6002;
    REQUIRE((*c)->Update(changed).ok());
    CHECK((*c)->PortInUse(6002));
    CHECK((*c)->Insert(Sample("../up")).code() == Code::kInvalidArgument);
    CHECK_FALSE(PathExists(dir.path() + "/up.json"));
    struct stat st;
    REQUIRE(::stat((cat_dir + "/a-clone.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  {
    auto c = Catalog::Open(cat_dir);
    REQUIRE(c.ok());
    auto list = (*c)->List();
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == "a-clone");
    CHECK(list[1].id == "b-clone");
    CHECK(Same(list[0], Sample("a-clone")));
    CHECK(list[1].state == CloneState::kDeleting);
    CHECK(list[1].port == 6002);
    REQUIRE((*c)->Remove("a-clone").ok());
    CHECK_FALSE(PathExists(cat_dir + "/a-clone.json"));
    CHECK_FALSE((*c)->Get("a-clone").has_value());
  }
  auto c = Catalog::Open(cat_dir);
  REQUIRE(c.ok());
  REQUIRE((*c)->List().size() == 1);
}

TEST_CASE("catalog: unreadable records are moved aside, not dropped", "[catalog]") {
  test::TempDir dir("zdap-catalog");
  const std::string cat_dir = dir.path() + "/catalog";
  REQUIRE(MakeDirs(cat_dir, 0700).ok());
  REQUIRE(WriteFileAtomic(cat_dir + "/good-one.json", SerializeRecord(Sample("good-one"))).ok());
  REQUIRE(WriteFileAtomic(cat_dir + "/torn.json", "{\"id\":\"torn\",\"reso").ok());
  // A record whose id does not match its file name would shadow another clone.
  REQUIRE(WriteFileAtomic(cat_dir + "/renamed.json", SerializeRecord(Sample("good-one"))).ok());
  auto c = Catalog::Open(cat_dir);
  REQUIRE(c.ok());
  auto list = (*c)->List();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == "good-one");
  CHECK(PathExists(cat_dir + "/torn.json.corrupt"));
  CHECK(PathExists(cat_dir + "/renamed.json.corrupt"));
  CHECK_FALSE(PathExists(cat_dir + "/torn.json"));
  CHECK(*ReadFile(cat_dir + "/torn.json.corrupt") == "{\"id\":\"torn\",\"reso");
}

TEST_CASE("catalog: the port allocator hands out each free port once, then says so",
          "[catalog][ports]") {
  test::PortBlock ports(4);
  PortAllocator a("127.0.0.1", ports.first(), ports.last());
  std::set<int> got;
  for (int i = 0; i < 4; ++i) {
    auto p = a.Allocate();
    REQUIRE(p.ok());
    CHECK(*p >= ports.first());
    CHECK(*p <= ports.last());
    got.insert(*p);
  }
  CHECK(got.size() == 4);
  CHECK(a.held() == 4);
  auto none = a.Allocate();
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kUnavailable);
  CHECK(none.status().message().find("no free clone port") != std::string::npos);

  // A released port comes back, but only after the others were offered (round robin).
  a.Release(ports.first() + 1);
  auto again = a.Allocate();
  REQUIRE(again.ok());
  CHECK(*again == ports.first() + 1);
  CHECK(a.held() == 4);
}

TEST_CASE("catalog: the port allocator skips busy and held ports, across a restart",
          "[catalog][ports]") {
  test::PortBlock ports(5);
  Listener other(ports.first());  // some other program listens on the first port
  {
    PortAllocator a("127.0.0.1", ports.first(), ports.last());
    for (int i = 0; i < 4; ++i) {
      auto p = a.Allocate();
      REQUIRE(p.ok());
      CHECK(*p != ports.first());
    }
    CHECK_FALSE(a.Allocate().ok());
  }
  // After a restart the daemon holds the ports its catalog records: the allocator must never
  // hand those out although nothing listens on them right now (the clone's server is down).
  PortAllocator b("127.0.0.1", ports.first(), ports.last());
  b.Hold(ports.first() + 1);
  b.Hold(ports.first() + 3);
  std::set<int> got;
  for (int i = 0; i < 2; ++i) {
    auto p = b.Allocate();
    REQUIRE(p.ok());
    got.insert(*p);
  }
  CHECK(got == std::set<int>{ports.first() + 2, ports.first() + 4});
  CHECK_FALSE(b.Allocate().ok());
  b.Release(ports.first() + 3);
  auto p = b.Allocate();
  REQUIRE(p.ok());
  CHECK(*p == ports.first() + 3);
}

}  // namespace zdap::catalog
