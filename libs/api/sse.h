// Server-Sent Events framing (the WHATWG "text/event-stream" format), both ways: zdapd writes
// GET /v1/events with SseEvent/SseComment, the CLI and the tests read it with SseParser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::api {

// One message: "id: <id>\nevent: <event>\ndata: <line>\n...\n\n". `data` may hold newlines
// (each line becomes a data line); `id` and `event` must not (they are cut at the first CR or
// LF, which a well-behaved caller never sends). Empty `id`/`event` are left out.
std::string SseEvent(std::string_view id, std::string_view event, std::string_view data);
// ": <text>\n\n": a comment, ignored by clients; keeps idle connections and proxies awake.
std::string SseComment(std::string_view text);
// "retry: <ms>\n\n": how long a client waits before reconnecting.
std::string SseRetry(int64_t milliseconds);

struct SseMessage {
  std::string id;     // the last id seen in the stream (sticky, as the spec says)
  std::string event;  // "" = "message"
  std::string data;   // data lines joined with "\n"
};

// Incremental parser: Feed() any chunks, then Next() the complete messages. Bounded: a line
// longer than `max_line` or a message larger than `max_message` is an error (the stream is
// then unusable). Lines end with LF, CR or CRLF (also split across chunks).
class SseParser {
 public:
  explicit SseParser(size_t max_line = 256u << 10, size_t max_message = 1u << 20)
      : max_line_(max_line), max_message_(max_message) {}

  Status Feed(std::string_view chunk);
  bool Next(SseMessage* out);
  // The "retry:" the server asked for, -1 if none.
  int64_t retry_ms() const { return retry_ms_; }

 private:
  Status Line(std::string_view line);

  size_t max_line_;
  size_t max_message_;
  std::string line_;
  bool after_cr_ = false;  // the last chunk ended in CR: an LF first in the next one is its pair
  std::string last_id_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  int64_t retry_ms_ = -1;
  std::deque<SseMessage> ready_;
};

}  // namespace zdap::api
