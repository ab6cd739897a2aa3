#include "origin_events.h"

#include "api/event.h"
#include "core/time.h"

namespace zdap::daemon {
namespace {

// The event of a refresh job: started, finished (with its snapshot) or failed (with the error
// line, which may hold anything a dump or script printed: the dashboard shows it as text).
api::Event RefreshEvent(std::string_view type, const origin::JobInfo& j, std::string actor) {
  api::Event e;
  e.type = std::string(type);
  e.resource = j.resource;
  e.job = j.id;
  e.snapshot = j.snapshot;
  e.error = j.error.substr(0, 2000);
  e.actor = std::move(actor);
  return e;
}

}  // namespace

void OriginEvents::PublishClone(std::string_view type, const catalog::CloneRecord& clone,
                                const std::string& actor, std::string reason) {
  api::Event e;
  e.type = std::string(type);
  e.resource = clone.resource;
  e.clone = clone.id;
  e.snapshot = clone.snapshot;
  e.owner = clone.owner;
  e.reason = std::move(reason);
  e.expires_at = clone.expires_at ? FormatRfc3339(*clone.expires_at) : "";
  e.state = catalog::CloneStateName(clone.state);
  e.actor = actor;
  dashboard_.bus().Publish(std::move(e));
}

void OriginEvents::CloneCreated(const catalog::CloneRecord& clone, const std::string& actor) {
  PublishClone(api::event_type::kCloneCreated, clone, actor);
}

void OriginEvents::CloneReset(const catalog::CloneRecord& clone, const std::string& actor) {
  PublishClone(api::event_type::kCloneReset, clone, actor);
}

void OriginEvents::CloneUpdated(const catalog::CloneRecord& clone, const std::string& actor) {
  PublishClone(api::event_type::kCloneUpdated, clone, actor);
}

void OriginEvents::CloneDestroyed(const catalog::CloneRecord& clone, origin::DestroyReason reason,
                                  const std::string& actor) {
  PublishClone(api::event_type::kCloneDestroyed, clone, actor, DestroyReasonName(reason));
}

void OriginEvents::PoolExhausted(const std::string& resource) {
  api::Event e;
  e.type = std::string(api::event_type::kPoolExhausted);
  e.resource = resource;
  dashboard_.bus().Publish(std::move(e));
}

void OriginEvents::StandbyStateChanged(const std::string& resource, const std::string& state,
                                       const std::string& previous) {
  api::Event e;
  e.type = std::string(api::event_type::kStandbyState);
  e.resource = resource;
  e.state = state;
  e.previous = previous;
  dashboard_.bus().Publish(std::move(e));
}

void OriginEvents::RefreshStarted(const origin::JobInfo& job, const std::string& actor) {
  dashboard_.bus().Publish(RefreshEvent(api::event_type::kRefreshStarted, job, actor));
}

void OriginEvents::RefreshFinished(const origin::JobInfo& job) {
  bool done = job.state == origin::JobState::kDone;
  dashboard_.bus().Publish(RefreshEvent(
      done ? api::event_type::kRefreshFinished : api::event_type::kRefreshFailed, job, ""));
  if (done && !job.snapshot.empty()) {
    api::Event e;
    e.type = std::string(api::event_type::kSnapshotCreated);
    e.resource = job.resource;
    e.snapshot = job.snapshot;
    e.job = job.id;
    dashboard_.bus().Publish(std::move(e));
  }
}

void OriginEvents::SnapshotDeleted(const std::string& resource, const std::string& id,
                                   const std::string& actor) {
  api::Event e;
  e.type = std::string(api::event_type::kSnapshotDeleted);
  e.resource = resource;
  e.snapshot = id;
  e.actor = actor;
  dashboard_.bus().Publish(std::move(e));
}

void OriginEvents::ExpirySwept(SystemTime now) {
  std::vector<events::ExpiringClone> clones;
  for (const auto& c : origin_.clones().List(origin::DaemonCaller(), true)) {
    // A clone being made is told of once it is ready (clone.created): not expiring before.
    if (c.pooled || c.state != "ready") continue;
    clones.push_back({c.id, c.owner, c.resource, c.snapshot, c.expires_at, c.is_protected});
  }
  dashboard_.AnnounceExpiring(clones, now);
}

}  // namespace zdap::daemon
