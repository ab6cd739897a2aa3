// libFuzzer target: the health-check reply parsers read only within their input and always
// decide or ask for more; a "need more" answer is never given for a reply past the size limit
// (the checker relies on it to stay bounded).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/check_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using zdap::proxy::Verdict;
  for (auto parse : {zdap::proxy::ParsePostgresReply, zdap::proxy::ParseMysqlGreeting}) {
    zdap::proxy::ProbeResult r = parse(in);
    if (r.reason.find('\n') != std::string_view::npos) std::abort();
    if (r.verdict == Verdict::kNeedMore && in.size() > zdap::proxy::kMaxProbeReply + 8) {
      std::abort();
    }
  }
  return 0;
}
