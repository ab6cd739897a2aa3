// zdap events [--origin URL] [-o text|json]: follows GET /v1/events of one origin (the one
// configured, or --origin) and prints each event the caller may see as it happens: one line
// of text, or with -o json the event's JSON as the origin sent it, one per line (for jq and
// scripts). A dropped connection is followed again after the last event printed
// (Last-Event-ID), so nothing is missed or printed twice while the origin keeps it in its
// history; what it no longer has is said on stderr. Runs until Ctrl-C or an API error
// (a revoked token: exit 1).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "zdap/args.h"
#include "zdap/clone_lookup.h"
#include "zdap/commands.h"
#include "zdap/placement.h"

namespace zdap::cli {
namespace {

// Waits after a dropped connection: the first retry soon, then doubling up to the cap while
// the origin stays away.
constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kMaxRetry = std::chrono::seconds(30);

// Control characters (an error line from a dump may hold anything) become spaces: one event,
// one line, nothing a terminal would act on.
std::string OneLine(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(),
      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
  return out;
}

// "2026-12-07T03:00:00.123Z  clone.destroyed  chinook-7f3a  resource=chinook owner=alice ..."
std::string TextLine(const api::Event& e) {
  std::string line = fmt::format("{}  {}", e.time, e.type);
  if (!e.clone.empty()) line += "  " + e.clone;
  std::vector<std::string> fields;
  auto field = [&](const char* name, const std::string& value) {
    if (!value.empty()) fields.push_back(fmt::format("{}={}", name, value));
  };
  field("resource", e.resource);
  field("snapshot", e.snapshot);
  field("owner", e.owner);
  field("reason", e.reason);
  field("expires", e.expires_at);
  field("job", e.job);
  field("state", e.state);
  field("previous", e.previous);
  field("by", e.actor);
  if (!fields.empty()) line += fmt::format("  {}", fmt::join(fields, " "));
  if (!e.error.empty()) line += " error: " + e.error;
  return OneLine(line);
}

// The origin to follow: --origin, else the only one configured.
Result<OriginApi> OriginToFollow(const UserConfig& config, const std::string& forced) {
  if (!forced.empty()) return OriginFor(config, forced);
  if (config.origins.size() == 1) return OriginFor(config, config.origins[0].url);
  std::vector<std::string> urls;
  for (const auto& o : config.origins) urls.push_back(o.url);
  return InvalidArgument(fmt::format("{} origins are configured; choose one with --origin URL ({})",
                                     urls.size(), fmt::join(urls, ", ")));
}

}  // namespace

Status CmdEvents(const VerbArgs& a) {
  const bool json = a.Get("output", "text") == "json";  // the choices are checked by verbs.cc
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadConfigWithOrigins());
  ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginToFollow(config, a.Get("origin")));

  std::optional<uint64_t> last;
  auto wait = std::chrono::seconds(0);
  for (;;) {
    bool got = false;
    Status st = api.FollowEvents(
        last,
        [&](const api::Event& e) {
          std::cout << (json ? api::EventJsonText(e) : TextLine(e)) << std::endl;
          last = e.id;
          got = true;
          return Status::Ok();
        },
        [&] {
          std::cerr << fmt::format(
              "zdap: the origin no longer has every event since the connection dropped; "
              "some were missed (see `zdap list clones`)\n");
        });
    // Only a lost connection is followed again; a refused token, a missing route and a
    // malformed stream are for the user.
    if (st.code() != Code::kUnavailable) return st;
    wait = got ? kFirstRetry
               : std::min<std::chrono::seconds>(kMaxRetry, std::max(kFirstRetry, wait * 2));
    std::cerr << fmt::format("zdap: {}; following again in {} s\n", st.message(), wait.count());
    std::this_thread::sleep_for(wait);
  }
}

}  // namespace zdap::cli
