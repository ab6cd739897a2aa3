// TargetSet (balance order, passive and active health) and the health-check probes.
#include <catch2/catch.hpp>

#include "core/prometheus.h"
#include "proxy/metrics.h"
#include "proxy/target_set.h"
#include "wire/health_probe.h"

using namespace zdap::proxy;

namespace {

// A one-byte message type as a std::string (GCC 12 warns, wrongly, on "R" + string).
std::string Msg(char type) {
  return std::string(1, type);
}

std::vector<HostPort> Three() {
  return {{"a", 1}, {"b", 2}, {"c", 3}};
}

HealthCheckConfig Check(CheckKind kind, int rise = 2, int fall = 3) {
  HealthCheckConfig c;
  c.kind = kind;
  c.rise = rise;
  c.fall = fall;
  return c;
}

}  // namespace

TEST_CASE("first keeps failover order; down targets go last") {
  TargetSet s(Three(), Balance::kFirst, Check(CheckKind::kTcp));
  std::vector<size_t> plan;
  s.Plan(10, &plan);
  CHECK(plan == std::vector<size_t>{0, 1, 2});
  s.ReportConnectFailure(0);
  s.Plan(10, &plan);
  CHECK(plan == std::vector<size_t>{1, 2, 0});
  s.Plan(2, &plan);
  CHECK(plan == std::vector<size_t>{1, 2});
  // Back after `rise` passes, not before.
  CHECK_FALSE(s.ReportCheck(0, true));
  s.Plan(10, &plan);
  CHECK(plan[0] == 1);
  CHECK(s.ReportCheck(0, true));
  s.Plan(10, &plan);
  CHECK(plan == std::vector<size_t>{0, 1, 2});
  // Down after `fall` failures.
  CHECK_FALSE(s.ReportCheck(1, false));
  CHECK_FALSE(s.ReportCheck(1, false));
  CHECK(s.ReportCheck(1, false));
  CHECK(s.UpCount() == 2);
  CHECK(s.at(1).checks_failed == 3);
}

TEST_CASE("roundrobin rotates over the up targets") {
  TargetSet s(Three(), Balance::kRoundRobin, Check(CheckKind::kTcp));
  std::vector<size_t> plan;
  std::vector<size_t> firsts;
  for (int i = 0; i < 6; ++i) {
    s.Plan(1, &plan);
    firsts.push_back(plan[0]);
  }
  CHECK(firsts == std::vector<size_t>{0, 1, 2, 0, 1, 2});
  s.ReportConnectFailure(1);
  std::map<size_t, int> count;
  for (int i = 0; i < 10; ++i) {
    s.Plan(3, &plan);
    count[plan[0]]++;
    CHECK(plan.back() == 1);
  }
  CHECK(count[0] == 5);
  CHECK(count[2] == 5);
}

TEST_CASE("leastconn prefers the fewest active connections") {
  TargetSet s(Three(), Balance::kLeastConn, Check(CheckKind::kTcp));
  s.at(0).active = 5;
  s.at(1).active = 1;
  s.at(2).active = 3;
  std::vector<size_t> plan;
  s.Plan(3, &plan);
  CHECK(plan == std::vector<size_t>{1, 2, 0});
}

TEST_CASE("random returns each target once") {
  TargetSet s(Three(), Balance::kRandom, Check(CheckKind::kTcp));
  std::vector<size_t> plan;
  for (int i = 0; i < 20; ++i) {
    s.Plan(10, &plan);
    std::vector<size_t> sorted = plan;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<size_t>{0, 1, 2});
  }
}

TEST_CASE("without active checks a failed target is tried again after the interval") {
  HealthCheckConfig c = Check(CheckKind::kNone);
  c.interval = std::chrono::milliseconds(0);
  TargetSet s(Three(), Balance::kFirst, c);
  s.ReportConnectFailure(0);
  std::vector<size_t> plan;
  s.Plan(3, &plan);
  CHECK(plan[0] == 0);  // retry_after 0: usable again at once
  s.ReportConnectSuccess(0);
  CHECK(s.at(0).up);
}

namespace {

using zdap::wire::HealthProbe;
using zdap::wire::ProbeStep;
using zdap::wire::Verdict;

std::string Be32(uint32_t v) {
  return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string PgError(const std::string& fields) {
  return Msg('E') + Be32(static_cast<uint32_t>(fields.size() + 4)) + fields;
}

std::string MysqlPacket(const std::string& p, char seq = 0) {
  return std::string{char(p.size()), char(p.size() >> 8), char(p.size() >> 16), seq} + p;
}

const std::string kGreeting = std::string("\x0a") + "8.0.35" + '\0' + std::string(4, '\1') +
                              "12345678" + '\0' + "\xff\xf7" + '\x2d' + std::string(2, '\0') +
                              std::string("\x0f\x00", 2) + '\x15' + std::string(10, '\0') +
                              "901234567890" + '\0' + "mysql_native_password" + '\0';

// Feeds `reply` to a fresh probe in one piece.
ProbeStep FeedAll(std::unique_ptr<HealthProbe> probe, const std::string& reply) {
  probe->Opening();
  return probe->Feed(reply);
}

}  // namespace

TEST_CASE("postgres probe: an SSLRequest, passed by either answer") {
  auto probe = zdap::wire::NewPostgresProbe();
  CHECK(probe->Opening() == std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8));
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), "N").verdict == Verdict::kPass);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), "S").verdict == Verdict::kPass);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), "").verdict == Verdict::kNeedMore);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), "HTTP/1.1 400").verdict == Verdict::kFail);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), Msg('E') + Be32(0)).verdict == Verdict::kFail);
  std::string starting = PgError(std::string("SFATAL\0C57P03\0Mstarting up\0\0", 29));
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), starting).verdict == Verdict::kFail);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), starting).reason.find("57P03") !=
        std::string::npos);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), starting.substr(0, 10)).verdict ==
        Verdict::kNeedMore);
  // Byte by byte: the same verdict as in one piece.
  auto slow = zdap::wire::NewPostgresProbe();
  ProbeStep last;
  for (char c : starting) last = slow->Feed(std::string(1, c));
  CHECK(last.verdict == Verdict::kFail);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(),
                PgError(std::string("SFATAL\0C0A000\0Munsupported\0\0", 28)))
            .verdict == Verdict::kPass);
  CHECK(FeedAll(zdap::wire::NewPostgresProbe(), PgError(std::string("SFATAL\0C53300\0\0", 15)))
            .verdict == Verdict::kFail);
  CHECK(
      FeedAll(zdap::wire::NewPostgresProbe(), PgError(std::string("Cunterminated", 13))).verdict ==
      Verdict::kFail);
}

TEST_CASE("mysql probe: greeting, login, COM_QUIT") {
  auto probe = zdap::wire::NewMysqlProbe();
  CHECK(probe->Opening().empty());
  ProbeStep login = probe->Feed(MysqlPacket(kGreeting));
  REQUIRE(login.verdict == Verdict::kNeedMore);
  REQUIRE(login.send.size() > 36);
  CHECK(login.send[3] == 1);  // the sequence after the greeting's
  CHECK(login.send.find("zdap-healthcheck") != std::string::npos);
  ProbeStep ok = probe->Feed(MysqlPacket(std::string("\0\0\0\x02\0\0\0", 7), 2));
  CHECK(ok.verdict == Verdict::kPass);
  CHECK(ok.send == std::string("\x01\0\0\0\x01", 5));

  auto denied = zdap::wire::NewMysqlProbe();
  denied->Feed(MysqlPacket(kGreeting));
  ProbeStep d = denied->Feed(MysqlPacket("\xff\x15\x04#28000Access denied", 2));
  CHECK(d.verdict == Verdict::kPass);
  CHECK(d.send.empty());

  auto full = zdap::wire::NewMysqlProbe();
  full->Feed(MysqlPacket(kGreeting));
  ProbeStep f = full->Feed(MysqlPacket("\xff\x10\x04#08004Too many connections", 2));
  CHECK(f.verdict == Verdict::kFail);
  CHECK(f.reason.find("1040") != std::string::npos);

  auto sw = zdap::wire::NewMysqlProbe();
  sw->Feed(MysqlPacket(kGreeting));
  ProbeStep answer = sw->Feed(MysqlPacket(
      std::string("\xfemysql_native_password\0", 23) + "ABCDEFGHIJKLMNOPQRST" + '\0', 2));
  CHECK(answer.verdict == Verdict::kNeedMore);
  CHECK(answer.send == std::string("\0\0\0\x03", 4));  // an empty password's empty scramble
}

TEST_CASE("mysql probe: greetings that fail") {
  auto verdict = [](const std::string& reply) {
    return FeedAll(zdap::wire::NewMysqlProbe(), reply);
  };
  CHECK(verdict(MysqlPacket(kGreeting).substr(0, 10)).verdict == Verdict::kNeedMore);
  CHECK(verdict(MysqlPacket(kGreeting, 1)).verdict == Verdict::kFail);
  CHECK(verdict(MysqlPacket("\xff\x10\x04Too many connections")).reason.find("1040") !=
        std::string::npos);
  CHECK(verdict(MysqlPacket("\x09"
                            "5.0"))
            .verdict == Verdict::kFail);
  CHECK(verdict(MysqlPacket(std::string("\x0a") + "8.0" + '\0')).verdict == Verdict::kFail);
  CHECK(verdict(std::string("\0\0\0\0", 4)).verdict == Verdict::kFail);
  CHECK(verdict("SSH-2.0-OpenSSH_9.2\r\n").verdict == Verdict::kFail);
  std::string garbled = kGreeting;
  garbled[2] = '\x07';
  CHECK(verdict(MysqlPacket(garbled)).verdict == Verdict::kFail);
}

// Random replies: every probe ends within kMaxProbeReply bytes with a one-line reason, and
// the verdict does not depend on how the bytes were split into reads.
TEST_CASE("probes: bounded, one-line reasons, independent of read boundaries") {
  uint64_t x = 7;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  int failed_with_reason = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string junk(static_cast<size_t>(next() % 80), '\0');
    for (char& c : junk) c = static_cast<char>(next());
    if (i % 3 == 0 && !junk.empty()) junk[0] = "SNE"[i % 9 / 3];
    if (i % 3 == 1) junk = MysqlPacket(kGreeting).substr(0, next() % 60) + junk;
    for (bool postgres : {true, false}) {
      auto whole = postgres ? zdap::wire::NewPostgresProbe() : zdap::wire::NewMysqlProbe();
      auto split = postgres ? zdap::wire::NewPostgresProbe() : zdap::wire::NewMysqlProbe();
      ProbeStep w = whole->Feed(junk);
      // Split in two at a random point; a probe that decided early ignores the rest.
      size_t cut = junk.empty() ? 0 : next() % junk.size();
      ProbeStep s = split->Feed(junk.substr(0, cut));
      bool done = s.verdict != Verdict::kNeedMore || !s.send.empty();
      if (!done) s = split->Feed(junk.substr(cut));
      if (w.send.empty() && !done) {
        INFO("input " << i << " postgres " << postgres << " cut " << cut);
        CHECK(s.verdict == w.verdict);
      }
      CHECK(w.reason.find('\n') == std::string::npos);
      if (w.verdict == Verdict::kFail) {
        CHECK(!w.reason.empty());
        ++failed_with_reason;
      }
    }
  }
  CHECK(failed_with_reason > 1000);
  auto flood = zdap::wire::NewPostgresProbe();
  CHECK(flood->Feed(std::string("E\0\x01\0\0", 5)).verdict == Verdict::kNeedMore);
  CHECK(flood->Feed(std::string(zdap::wire::kMaxProbeReply, 'x')).verdict == Verdict::kFail);
}

TEST_CASE("metrics text escapes labels") {
  CHECK(zdap::EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(zdap::EscapeLabelValue("tab\there ünïcode") == "tab\there ünïcode");
  TargetSet s({{"db", 1}}, Balance::kFirst, Check(CheckKind::kTcp));
  ListenerStats stats;
  stats.accepted = 3;
  std::string text = RenderMetrics({{"l\"1", &stats, &s}});
  CHECK(text.find("zdap_proxy_connections_total{listener=\"l\\\"1\"} 3\n") != std::string::npos);
  CHECK(text.find("zdap_proxy_target_up{listener=\"l\\\"1\",target=\"db:1\"} 1\n") !=
        std::string::npos);
}
