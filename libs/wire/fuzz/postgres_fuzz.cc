// libFuzzer target: the PostgreSQL reply parsers (wire/postgres_wire.h) read only within their
// input and decide on the first message alone: every prefix of an input is still incomplete
// or decided the same way, and an error's SQLSTATE is taken from the input. Seeds: replies of
// a real PostgreSQL 15 (corpus/wire_postgres_fuzz).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/postgres_wire.h"

using namespace zdap::wire::pg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Reply whole = ParseStartupReply(in);
  SslReply ssl = ParseSslReply(in);
  if (whole.kind == ReplyKind::kError && in.find(whole.sqlstate) == std::string_view::npos) {
    std::abort();
  }
  if (whole.message.size() > 1024) std::abort();
  // Prefixes: a few cut points, not all (keeps each run fast on long inputs).
  for (size_t n : {size_t{0}, size_t{1}, size_t{4}, size_t{5}, size / 2, size - (size > 0)}) {
    if (n > size) continue;
    Reply part = ParseStartupReply(in.substr(0, n));
    if (part.kind != ReplyKind::kIncomplete &&
        (part.kind != whole.kind || part.sqlstate != whole.sqlstate)) {
      std::abort();
    }
    SslReply ssl_part = ParseSslReply(in.substr(0, n));
    if (ssl_part.kind != SslReplyKind::kIncomplete && ssl_part.kind != ssl.kind) std::abort();
  }
  return 0;
}
