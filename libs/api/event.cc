#include "api/event.h"

#include <boost/json.hpp>

#include <array>

#include "api/fields.h"
#include "api/json_reader.h"

namespace json = boost::json;

namespace zdap::api {
namespace {

constexpr std::array kTypes = {
    event_type::kCloneCreated,    event_type::kCloneReset,     event_type::kCloneUpdated,
    event_type::kCloneDestroyed,  event_type::kCloneExpiring,  event_type::kSnapshotCreated,
    event_type::kSnapshotDeleted, event_type::kRefreshStarted, event_type::kRefreshFinished,
    event_type::kRefreshFailed,   event_type::kPoolExhausted,  event_type::kStandbyState,
};

// The optional text fields, in wire order, with where each lives in an Event.
struct TextField {
  const char* key;
  std::string Event::*member;
};
constexpr std::array kTextFields = {
    TextField{field::kResource, &Event::resource}, TextField{"clone", &Event::clone},
    TextField{field::kSnapshot, &Event::snapshot}, TextField{field::kOwner, &Event::owner},
    TextField{"reason", &Event::reason},           TextField{field::kJob, &Event::job},
    TextField{field::kError, &Event::error},       TextField{field::kState, &Event::state},
    TextField{"previous", &Event::previous},       TextField{"actor", &Event::actor},
};

}  // namespace

const std::string_view* EventTypes(size_t* count) {
  *count = kTypes.size();
  return kTypes.data();
}

bool IsEventType(std::string_view type) {
  for (std::string_view t : kTypes) {
    if (t == type) return true;
  }
  return false;
}

json::object ToJson(const Event& e) {
  json::object o;
  o[field::kId] = e.id;
  o["type"] = e.type;
  o["time"] = e.time;
  for (const TextField& f : kTextFields) {
    const std::string& v = e.*f.member;
    if (!v.empty()) o[f.key] = v;
  }
  if (!e.expires_at.empty()) o[field::kExpiresAt] = e.expires_at;
  return o;
}

std::string EventJsonText(const Event& e) {
  return json::serialize(ToJson(e));
}

Result<Event> EventFromJson(const json::value& v) {
  Event e;
  ObjectReader r(v, "event", Code::kUnprocessable);
  r.Uint(field::kId, &e.id);
  r.String("type", &e.type, /*required=*/true);
  r.Time("time", &e.time);
  for (const TextField& f : kTextFields) r.String(f.key, &(e.*f.member));
  r.Time(field::kExpiresAt, &e.expires_at);
  if (!r.status().ok()) return r.status();
  if (e.id == 0) return Status(Code::kUnprocessable, "event: id is missing or 0");
  return e;
}

Result<Event> ParseEvent(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text, "event"));
  return EventFromJson(v);
}

}  // namespace zdap::api
