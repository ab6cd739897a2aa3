// libFuzzer target: the MySQL packet parsers (wire/mysql_wire.h) read only within their input
// and decide on the first packet alone (every prefix is incomplete or decided the same way); a
// greeting that parses has a 20-byte salt and yields a login that is one well-framed packet
// with the next sequence number. Seeds: packets of a real MariaDB 10.11
// (corpus/wire_mysql_fuzz).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/mysql_wire.h"

using namespace zdap::wire::mysql;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  GreetingReply g = ParseGreeting(in);
  AuthReply a = ParseAuthReply(in);
  for (size_t n : {size_t{0}, size_t{3}, size_t{4}, size_t{5}, size / 2, size - (size > 0)}) {
    if (n > size) continue;
    Parse gp = ParseGreeting(in.substr(0, n)).kind;
    Parse ap = ParseAuthReply(in.substr(0, n)).kind;
    if (gp != Parse::kIncomplete && gp != g.kind) std::abort();
    if (ap != Parse::kIncomplete && ap != a.kind) std::abort();
  }
  if (g.kind == Parse::kOk) {
    if (g.greeting.salt.size() != 20) std::abort();
    std::string login = HandshakeResponse(g.greeting, "zdap", "secret", "db");
    size_t len = static_cast<uint8_t>(login[0]) | (size_t{static_cast<uint8_t>(login[1])} << 8) |
                 (size_t{static_cast<uint8_t>(login[2])} << 16);
    if (len + 4 != login.size()) std::abort();
    if (static_cast<uint8_t>(login[3]) != static_cast<uint8_t>(g.greeting.sequence + 1)) {
      std::abort();
    }
  }
  if (a.auth_switch) {
    std::string answer = AuthSwitchResponse(a, "secret");
    if (!answer.empty() && static_cast<uint8_t>(answer[3]) != uint8_t(a.sequence + 1)) {
      std::abort();
    }
  }
  return 0;
}
