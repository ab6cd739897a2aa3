// API v1's event object: what GET /v1/events streams (as Server-Sent Events, api/sse.h) and
// what a webhook POSTs. One flat object for every type; fields a type does not use are absent
// from the wire. Events never carry a password or a token.
//
//   {"id": 1733500000000001, "type": "clone.destroyed", "time": "2026-12-06T20:30:00.123Z",
//    "resource": "chinook", "clone": "chinook-7f3a", "snapshot": "chinook@20261206T030000Z",
//    "owner": "alice", "reason": "expiry"}
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::api {

// The event types (SPEC "HTTP API v1" /v1/events, issue 24).
namespace event_type {
inline constexpr std::string_view kCloneCreated = "clone.created";
inline constexpr std::string_view kCloneReset = "clone.reset";
inline constexpr std::string_view kCloneUpdated = "clone.updated";  // extended or (un)protected
inline constexpr std::string_view kCloneDestroyed = "clone.destroyed";
inline constexpr std::string_view kCloneExpiring = "clone.expiring";
inline constexpr std::string_view kSnapshotCreated = "snapshot.created";
inline constexpr std::string_view kSnapshotDeleted = "snapshot.deleted";
inline constexpr std::string_view kRefreshStarted = "refresh.started";
inline constexpr std::string_view kRefreshFinished = "refresh.finished";
inline constexpr std::string_view kRefreshFailed = "refresh.failed";
inline constexpr std::string_view kPoolExhausted = "pool.exhausted";
inline constexpr std::string_view kStandbyState = "standby.state";
}  // namespace event_type

// Every type above, for validation of webhook filters and the CLI's --type.
const std::string_view* EventTypes(size_t* count);
bool IsEventType(std::string_view type);

// Why a clone was destroyed (clone.destroyed's "reason").
namespace destroy_reason {
inline constexpr std::string_view kOwner = "owner";
inline constexpr std::string_view kExpiry = "expiry";
inline constexpr std::string_view kIdle = "idle";
inline constexpr std::string_view kAdmin = "admin";
}  // namespace destroy_reason

struct Event {
  uint64_t id = 0;   // increasing; the SSE id (decimal)
  std::string type;  // event_type::*
  std::string time;  // RFC 3339 UTC with milliseconds
  std::string resource;
  std::string clone;
  std::string snapshot;
  std::string owner;       // the clone's owner ("" for pool clones and non-clone events)
  std::string reason;      // clone.destroyed: destroy_reason::*
  std::string expires_at;  // clone.created/updated/expiring: RFC 3339, "" = never
  std::string job;         // refresh.*: the job id
  std::string error;       // refresh.failed: the error line; clone events: a failure
  std::string state;       // standby.state: the new state; clone.*: the clone's state
  std::string previous;    // standby.state: the state before
  std::string actor;       // who caused it ("" = zdapd itself: expiry, schedule)
};

boost::json::object ToJson(const Event& event);
// The event's JSON text (what SSE's data line and a webhook's body carry).
std::string EventJsonText(const Event& event);
// Requires id and type; strict about the types of the others.
Result<Event> EventFromJson(const boost::json::value& v);
Result<Event> ParseEvent(std::string_view text);

}  // namespace zdap::api
