#include "origin/refresh_record.h"

#include <fmt/format.h>

#include <charconv>

#include "core/log.h"
#include "storage/volume_meta.h"

namespace zdap::origin {

namespace {

constexpr size_t kMaxRecordBytes = 4096;

}  // namespace

std::string OneLine(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (out.size() <= max_bytes) {
    return out;
  }
  constexpr std::string_view kEllipsis = "...";
  size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so that no character is split.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  out.resize(cut);
  out += kEllipsis;
  return out;
}

Result<std::unique_ptr<RefreshRecords>> RefreshRecords::Open(Env& env, std::string dir) {
  ZDAP_RETURN_IF_ERROR(env.MakeDirs(dir, 0700));
  return std::unique_ptr<RefreshRecords>(new RefreshRecords(env, std::move(dir)));
}

void RefreshRecords::Record(const std::string& resource, const RefreshOutcome& outcome) {
  storage::VolumeMeta meta{
      {"state", outcome.ok ? "done" : "failed"},
      {"finished_at", FormatRfc3339(outcome.finished_at)},
      {"elapsed_ms", std::to_string(outcome.elapsed.count())},
  };
  if (!outcome.snapshot.empty()) {
    meta["snapshot"] = outcome.snapshot;
  }
  RefreshOutcome kept = outcome;
  kept.error = OneLine(outcome.error);
  if (!kept.error.empty()) {
    meta["error"] = kept.error;
  }
  Status st = env_->ReplaceFile(dir_ + "/" + resource, storage::FormatVolumeMeta(meta), 0600);
  if (!st.ok()) {
    log::Warn("refresh {}: its outcome is not kept: {}", resource, st.message());
  }
  std::lock_guard lock(mu_);
  cache_[resource] = std::move(kept);
}

std::optional<RefreshOutcome> RefreshRecords::Last(const std::string& resource) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(resource);
  if (it == cache_.end()) {
    it = cache_.emplace(resource, Load(resource)).first;
  }
  return it->second;
}

std::optional<RefreshOutcome> RefreshRecords::Load(const std::string& resource) const {
  const std::string path = dir_ + "/" + resource;
  if (!env_->FileExists(path)) {
    return std::nullopt;
  }
  auto fail = [&](const std::string& why) -> std::optional<RefreshOutcome> {
    log::Warn("refresh {}: the record of its last outcome is not used: {}", resource, why);
    return std::nullopt;
  };
  auto text = env_->ReadFile(path, kMaxRecordBytes);
  if (!text.ok()) {
    return fail(text.status().message());
  }
  auto meta = storage::ParseVolumeMeta(*text, path);
  if (!meta.ok()) {
    return fail(meta.status().message());
  }
  RefreshOutcome out;
  const std::string& state = (*meta)["state"];
  if (state != "done" && state != "failed") {
    return fail(path + ": state is not done or failed");
  }
  out.ok = state == "done";
  auto finished = ParseRfc3339((*meta)["finished_at"]);
  if (!finished.ok()) {
    return fail(path + ": finished_at: " + finished.status().message());
  }
  out.finished_at = *finished;
  const std::string& ms = (*meta)["elapsed_ms"];
  int64_t elapsed = 0;
  auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), elapsed);
  if (ec != std::errc() || end != ms.data() + ms.size() || elapsed < 0) {
    return fail(path + ": elapsed_ms is not a count of milliseconds");
  }
  out.elapsed = std::chrono::milliseconds(elapsed);
  out.snapshot = (*meta)["snapshot"];
  out.error = (*meta)["error"];
  return out;
}

}  // namespace zdap::origin
