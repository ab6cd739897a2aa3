// libFuzzer target: the health-check probes (wire/health_probe.h) read only within their input,
// decide within kMaxProbeReply bytes, give one-line reasons, and reach the same verdict however
// the reply is split into reads (the first byte of the input chooses the split).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/health_probe.h"

using zdap::wire::ProbeStep;
using zdap::wire::Verdict;

namespace {

// Feeds `in` in pieces of `piece` bytes until the probe decides or asks to send.
ProbeStep Run(zdap::wire::HealthProbe* probe, std::string_view in, size_t piece) {
  probe->Opening();
  ProbeStep step;
  for (size_t at = 0; at < in.size(); at += piece) {
    step = probe->Feed(in.substr(at, piece));
    if (step.verdict != Verdict::kNeedMore || !step.send.empty()) return step;
  }
  return step;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 16;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (bool postgres : {true, false}) {
    auto a = postgres ? zdap::wire::NewPostgresProbe() : zdap::wire::NewMysqlProbe();
    auto b = postgres ? zdap::wire::NewPostgresProbe() : zdap::wire::NewMysqlProbe();
    ProbeStep whole = Run(a.get(), in, in.size() + 1);
    ProbeStep pieces = Run(b.get(), in, piece);
    if (whole.reason.find('\n') != std::string_view::npos) std::abort();
    if (whole.verdict == Verdict::kFail && whole.reason.empty()) std::abort();
    if (whole.verdict == Verdict::kNeedMore && whole.send.empty() &&
        in.size() > zdap::wire::kMaxProbeReply) {
      std::abort();
    }
    // A decision in one piece is the same decision in small pieces (the mysql probe's login
    // step depends only on the greeting packet, so compare verdicts and bytes to send).
    if (whole.verdict != pieces.verdict && pieces.send.empty() && whole.send.empty()) {
      std::abort();
    }
  }
  return 0;
}
