// TargetSet (balance order, passive and active health) and the health-check reply parsers.
#include <catch2/catch.hpp>

#include "proxy/check_protocol.h"
#include "proxy/metrics.h"
#include "proxy/target_set.h"

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

TEST_CASE("postgres reply parser") {
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  CHECK(ParsePostgresReply("").verdict == Verdict::kNeedMore);
  CHECK(ParsePostgresReply("R").verdict == Verdict::kNeedMore);
  CHECK(ParsePostgresReply(Msg('R') + be32(8) + be32(0)).verdict == Verdict::kPass);
  CHECK(ParsePostgresReply(Msg('v') + be32(8)).verdict == Verdict::kPass);
  CHECK(ParsePostgresReply("HTTP/1.1 400").verdict == Verdict::kFail);
  CHECK(ParsePostgresReply(Msg('R') + be32(0)).verdict == Verdict::kFail);
  CHECK(ParsePostgresReply(Msg('R') + be32(0xffffffff)).verdict == Verdict::kFail);
  auto err = [&](std::string fields) {
    return Msg('E') + be32(static_cast<uint32_t>(fields.size() + 4)) + fields;
  };
  std::string starting = err(std::string("SFATAL\0C57P03\0Mstarting up\0\0", 29));
  CHECK(ParsePostgresReply(starting).verdict == Verdict::kFail);
  CHECK(ParsePostgresReply(starting.substr(0, 10)).verdict == Verdict::kNeedMore);
  CHECK(ParsePostgresReply(err(std::string("SFATAL\0C28P01\0Mbad password\0\0", 30))).verdict ==
        Verdict::kPass);
  CHECK(ParsePostgresReply(err(std::string("SFATAL\0C53300\0\0", 15))).verdict == Verdict::kFail);
  CHECK(ParsePostgresReply(err(std::string("Cunterminated", 13))).verdict == Verdict::kFail);
  std::string startup = PostgresStartupMessage();
  CHECK(startup.size() > 8);
  CHECK(startup.substr(4, 4) == be32(196608));
}

TEST_CASE("mysql greeting parser") {
  auto packet = [](std::string p, char seq = 0) {
    return std::string{char(p.size()), char(p.size() >> 8), char(p.size() >> 16), seq} + p;
  };
  std::string good = std::string("\x0a") + "8.0.35" + '\0' + std::string(4, '\1') + "12345678" +
                     '\0' + "\xff\xf7" + std::string(20, '\0');
  CHECK(ParseMysqlGreeting(packet(good)).verdict == Verdict::kPass);
  CHECK(ParseMysqlGreeting(packet(good).substr(0, 10)).verdict == Verdict::kNeedMore);
  CHECK(ParseMysqlGreeting(packet(good, 1)).verdict == Verdict::kFail);
  CHECK(ParseMysqlGreeting(packet("\xff\x10\x04Too many connections")).verdict == Verdict::kFail);
  CHECK(ParseMysqlGreeting(packet("\xff\x10\x04Too many connections")).reason.find("1040") !=
        std::string::npos);
  CHECK(ParseMysqlGreeting(packet("\x09"
                                  "5.0"))
            .verdict == Verdict::kFail);
  CHECK(ParseMysqlGreeting(packet(std::string("\x0a") + "8.0" + '\0')).verdict == Verdict::kFail);
  CHECK(ParseMysqlGreeting(std::string("\0\0\0\0", 4)).verdict == Verdict::kFail);
  CHECK(ParseMysqlGreeting("SSH-2.0-OpenSSH_9.2\r\n").verdict == Verdict::kFail);
  CHECK(MysqlLoginPacket().size() > 36);
}

TEST_CASE("parsers survive arbitrary bytes") {
  uint64_t x = 7;
  for (int i = 0; i < 20000; ++i) {
    std::string junk(static_cast<size_t>(i % 64), '\0');
    for (char& c : junk) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
    if (i % 3 == 0 && !junk.empty()) junk[0] = "REv"[i % 3];
    ProbeResult a = ParsePostgresReply(junk);
    ProbeResult b = ParseMysqlGreeting(junk);
    CHECK(a.reason.find('\n') == std::string::npos);
    CHECK(b.reason.find('\n') == std::string::npos);
  }
}

TEST_CASE("metrics text escapes labels") {
  CHECK(EscapeLabel("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  TargetSet s({{"db", 1}}, Balance::kFirst, Check(CheckKind::kTcp));
  ListenerStats stats;
  stats.accepted = 3;
  std::string text = RenderMetrics({{"l\"1", &stats, &s}});
  CHECK(text.find("zdap_proxy_connections_total{listener=\"l\\\"1\"} 3\n") != std::string::npos);
  CHECK(text.find("zdap_proxy_target_up{listener=\"l\\\"1\",target=\"db:1\"} 1\n") !=
        std::string::npos);
}
