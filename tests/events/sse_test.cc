// SSE framing and the event object: round trips, line endings split across chunks, and
// hostile input (oversized lines, garbage fields) that must fail cleanly or be ignored.
#include <catch2/catch.hpp>

#include "api/event.h"
#include "api/sse.h"

using namespace zdap;
using namespace zdap::api;

namespace {

std::vector<SseMessage> ParseAll(const std::string& text, size_t chunk = 1) {
  SseParser p;
  for (size_t at = 0; at < text.size(); at += chunk) REQUIRE(p.Feed(text.substr(at, chunk)).ok());
  std::vector<SseMessage> out;
  SseMessage m;
  while (p.Next(&m)) out.push_back(m);
  return out;
}

}  // namespace

TEST_CASE("an SSE event is id, event and one data line per line of data", "[sse]") {
  CHECK(SseEvent("7", "clone.created", "{\"a\":1}") ==
        "id: 7\nevent: clone.created\ndata: {\"a\":1}\n\n");
  CHECK(SseEvent("", "", "a\nb\r\nc\rd") == "data: a\ndata: b\ndata: c\ndata: d\n\n");
  // A newline smuggled into the id or the event name cannot start a field of its own.
  CHECK(SseEvent("1\ndata: x", "e\r\nid: 9", "d") == "id: 1\nevent: e\ndata: d\n\n");
  CHECK(SseComment("ping\nid: 3") == ": ping\n\n");
  CHECK(SseRetry(2000) == "retry: 2000\n\n");
}

TEST_CASE("the SSE parser reads what SseEvent writes, chunk by chunk", "[sse]") {
  std::string text = SseRetry(1500) + SseComment("hello") + SseEvent("1", "a", "x\ny") +
                     SseEvent("", "b", "z") + SseEvent("3", "", "w");
  for (size_t chunk : {1, 2, 3, 7, 1000}) {
    SseParser p;
    for (size_t at = 0; at < text.size(); at += chunk) REQUIRE(p.Feed(text.substr(at, chunk)).ok());
    CHECK(p.retry_ms() == 1500);
    SseMessage m;
    REQUIRE(p.Next(&m));
    CHECK((m.id == "1" && m.event == "a" && m.data == "x\ny"));
    REQUIRE(p.Next(&m));
    CHECK((m.id == "1" && m.event == "b" && m.data == "z"));  // the id is sticky
    REQUIRE(p.Next(&m));
    CHECK((m.id == "3" && m.event.empty() && m.data == "w"));
    CHECK_FALSE(p.Next(&m));
  }
}

TEST_CASE("the SSE parser takes CR, LF and CRLF, and a CRLF split across chunks", "[sse]") {
  auto msgs = ParseAll("id: 1\r\ndata: a\r\n\r\nid:2\rdata:b\r\rdata: c\n\n", 1);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].data == "a");
  CHECK(msgs[1].id == "2");
  CHECK(msgs[1].data == "b");
  CHECK(msgs[2].data == "c");
  // A message without data is not dispatched; unknown fields and a field without a colon are
  // ignored; a bad retry is ignored.
  auto quiet = ParseAll("event: x\n\nfoo: bar\ndata\nretry: 12a\n\n");
  REQUIRE(quiet.size() == 1);
  CHECK(quiet[0].data.empty());
  CHECK(quiet[0].event.empty());
}

TEST_CASE("the SSE parser refuses oversized lines and messages", "[sse]") {
  SseParser p(16, 32);
  CHECK_FALSE(p.Feed(std::string(17, 'x')).ok());
  SseParser q(64, 32);
  CHECK(q.Feed("data: 0123456789abcdef\n").ok());
  CHECK_FALSE(q.Feed("data: 0123456789abcdef\n").ok());
  // Binary junk without line ends fills one line and fails; it never grows unbounded.
  SseParser r(1024, 4096);
  std::string junk(4096, '\x01');
  CHECK_FALSE(r.Feed(junk).ok());
}

TEST_CASE("an event round-trips through JSON; unused fields stay off the wire", "[sse]") {
  Event e;
  e.id = 1733500000000001;
  e.type = std::string(event_type::kCloneDestroyed);
  e.time = "2026-12-06T20:30:00.123Z";
  e.resource = "chinook";
  e.clone = "chinook-7f3a";
  e.owner = "alice";
  e.reason = std::string(destroy_reason::kExpiry);
  std::string text = EventJsonText(e);
  CHECK(text.find("\"error\"") == std::string::npos);
  CHECK(text.find("\"expires_at\"") == std::string::npos);
  auto back = ParseEvent(text);
  REQUIRE(back.ok());
  CHECK(back->id == e.id);
  CHECK(back->type == e.type);
  CHECK(back->clone == e.clone);
  CHECK(back->reason == "expiry");
  CHECK(back->owner == "alice");
  // Markup in an error line is data: JSON keeps it as it is (escaping is the page's job).
  e.error = "<img src=x onerror=alert(1)>\n\"quoted\"";
  auto again = ParseEvent(EventJsonText(e));
  REQUIRE(again.ok());
  CHECK(again->error == e.error);
}

TEST_CASE("malformed events are refused", "[sse]") {
  CHECK_FALSE(ParseEvent("").ok());
  CHECK_FALSE(ParseEvent("[]").ok());
  CHECK_FALSE(ParseEvent("{\"type\":\"clone.created\"}").ok());  // no id
  CHECK_FALSE(ParseEvent("{\"id\":1}").ok());                    // no type
  CHECK_FALSE(ParseEvent("{\"id\":-1,\"type\":\"x\"}").ok());
  CHECK_FALSE(ParseEvent("{\"id\":1,\"type\":\"x\",\"clone\":5}").ok());
  CHECK_FALSE(ParseEvent("{\"id\":1,\"type\":\"x\",\"time\":\"yesterday\"}").ok());
  CHECK_FALSE(ParseEvent(std::string(100, '{')).ok());
  CHECK(ParseEvent("{\"id\":1,\"type\":\"x\",\"new_field\":[1,2]}").ok());
  CHECK(IsEventType("clone.expiring"));
  CHECK_FALSE(IsEventType("clone"));
}
