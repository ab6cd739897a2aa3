#include "wire/health_probe.h"

#include <fmt/format.h>

#include <algorithm>

#include "wire/mysql_wire.h"
#include "wire/postgres_wire.h"

namespace zdap::wire {
namespace {

// `text` made safe for a one-line log message: printable ASCII, at most 200 characters.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    bool printable = c >= 0x20 && c <= 0x7e;
    out += printable ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  return out;
}

ProbeStep Fail(std::string reason) {
  return {Verdict::kFail, {}, std::move(reason)};
}

ProbeStep Pass(std::string send = {}) {
  return {Verdict::kPass, std::move(send), {}};
}

// Keeps what was received, at most one byte more than kMaxProbeReply. The parsers decide on
// a prefix, so a reply is "too long" only when its first kMaxProbeReply bytes decide nothing.
class Received {
 public:
  void Add(std::string_view bytes) {
    data_.append(bytes.substr(0, kMaxProbeReply + 1 - std::min(data_.size(), kMaxProbeReply)));
  }
  bool TooLong() const { return data_.size() > kMaxProbeReply; }
  const std::string& data() const { return data_; }
  void Clear() { data_.clear(); }

 private:
  std::string data_;
};

class PostgresProbe : public HealthProbe {
 public:
  std::string Opening() override { return pg::SslRequest(); }

  ProbeStep Feed(std::string_view bytes) override {
    received_.Add(bytes);
    pg::SslReply r = pg::ParseSslReply(received_.data());
    switch (r.kind) {
      case pg::SslReplyKind::kIncomplete:
        if (received_.TooLong()) return Fail("PostgreSQL reply too long");
        return {};
      case pg::SslReplyKind::kAccepted:
      case pg::SslReplyKind::kRefused:
        return Pass();
      case pg::SslReplyKind::kError: {
        std::string_view cls = std::string_view(r.error.sqlstate).substr(0, 2);
        if (cls == "53" || cls == "57" || cls == "58") {
          return Fail(fmt::format("PostgreSQL refuses connections: {} {}",
                                  Printable(r.error.sqlstate), Printable(r.error.message)));
        }
        return Pass();
      }
      case pg::SslReplyKind::kMalformed:
        break;
    }
    return Fail(fmt::format("not a PostgreSQL reply (starts with \"{}\")",
                            Printable(received_.data().substr(0, 8))));
  }

 private:
  Received received_;
};

class MysqlProbe : public HealthProbe {
 public:
  explicit MysqlProbe(std::string_view user) : user_(user) {}

  std::string Opening() override { return {}; }

  ProbeStep Feed(std::string_view bytes) override {
    received_.Add(bytes);
    return state_ == State::kGreeting ? OnGreeting() : OnAuthReply();
  }

 private:
  enum class State { kGreeting, kAuth };

  static bool Refusal(uint16_t code) { return code == 1040 || code == 1053 || code == 1129; }

  ProbeStep OnGreeting() {
    mysql::GreetingReply g = mysql::ParseGreeting(received_.data());
    switch (g.kind) {
      case mysql::Parse::kIncomplete:
        if (received_.TooLong()) return Fail("MySQL greeting too long");
        return {};
      case mysql::Parse::kError:
        return Fail(fmt::format("MySQL refuses connections: error {} {}", g.error.code,
                                Printable(g.error.message)));
      case mysql::Parse::kMalformed:
        return Fail(fmt::format("not a MySQL protocol 10 greeting (starts with \"{}\")",
                                Printable(received_.data().substr(0, 8))));
      case mysql::Parse::kOk:
        break;
    }
    if (g.greeting.sequence != 0) return Fail("MySQL greeting with a sequence number other than 0");
    if (g.greeting.server_version.empty()) return Fail("MySQL greeting without a version");
    for (char c : g.greeting.server_version) {
      if (c < 0x20 || c > 0x7e) return Fail("MySQL greeting with a garbled version");
    }
    state_ = State::kAuth;
    received_.Clear();
    return {Verdict::kNeedMore, mysql::HandshakeResponse(g.greeting, user_, "", ""), {}};
  }

  ProbeStep OnAuthReply() {
    mysql::AuthReply r = mysql::ParseAuthReply(received_.data());
    switch (r.kind) {
      case mysql::Parse::kIncomplete:
        if (received_.TooLong()) return Fail("MySQL reply too long");
        return {};
      case mysql::Parse::kError:
        if (Refusal(r.error.code)) {
          return Fail(fmt::format("MySQL refuses connections: error {} {}", r.error.code,
                                  Printable(r.error.message)));
        }
        return Pass();  // e.g. access denied: the server serves clients
      case mysql::Parse::kMalformed:
        return Fail("MySQL answered the login with a malformed packet");
      case mysql::Parse::kOk:
        break;
    }
    if (!r.auth_switch) return Pass(mysql::ComQuit());
    std::string answer = mysql::AuthSwitchResponse(r, "");
    if (answer.empty() || switched_) return Pass();  // a plugin we do not speak: it serves
    switched_ = true;
    received_.Clear();
    return {Verdict::kNeedMore, std::move(answer), {}};
  }

  std::string user_;
  State state_ = State::kGreeting;
  bool switched_ = false;
  Received received_;
};

}  // namespace

std::unique_ptr<HealthProbe> NewPostgresProbe() {
  return std::make_unique<PostgresProbe>();
}

std::unique_ptr<HealthProbe> NewMysqlProbe(std::string_view user) {
  return std::make_unique<MysqlProbe>(user);
}

}  // namespace zdap::wire
