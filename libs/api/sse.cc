#include "api/sse.h"

#include <fmt/format.h>

namespace zdap::api {
namespace {

std::string_view FirstLine(std::string_view s) {
  return s.substr(0, s.find_first_of("\r\n"));
}

}  // namespace

std::string SseEvent(std::string_view id, std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 64);
  if (!id.empty()) {
    out += "id: ";
    out += FirstLine(id);
    out += '\n';
  }
  if (!event.empty()) {
    out += "event: ";
    out += FirstLine(event);
    out += '\n';
  }
  // Every line of `data` (split at CRLF, CR or LF) is a data line of its own.
  size_t at = 0;
  while (true) {
    size_t end = data.find_first_of("\r\n", at);
    out += "data: ";
    out += data.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    out += '\n';
    if (end == std::string_view::npos) break;
    at = end + 1;
    if (data[end] == '\r' && at < data.size() && data[at] == '\n') ++at;
  }
  out += '\n';
  return out;
}

std::string SseComment(std::string_view text) {
  return fmt::format(": {}\n\n", FirstLine(text));
}

std::string SseRetry(int64_t milliseconds) {
  return fmt::format("retry: {}\n\n", milliseconds);
}

Status SseParser::Feed(std::string_view chunk) {
  for (char c : chunk) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      ZDAP_RETURN_IF_ERROR(Line(line_));
      line_.clear();
      continue;
    }
    if (line_.size() >= max_line_) {
      return Status(Code::kUnprocessable,
                    fmt::format("event stream: a line is longer than {} bytes", max_line_));
    }
    line_ += c;
  }
  return Status::Ok();
}

Status SseParser::Line(std::string_view line) {
  if (line.empty()) {  // dispatch
    if (has_data_) {
      ready_.push_back(SseMessage{last_id_, event_, data_});
    }
    event_.clear();
    data_.clear();
    has_data_ = false;
    return Status::Ok();
  }
  if (line.front() == ':') return Status::Ok();  // comment
  size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (data_.size() + value.size() + 1 > max_message_) {
      return Status(Code::kUnprocessable,
                    fmt::format("event stream: a message is larger than {} bytes", max_message_));
    }
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  } else if (name == "event") {
    event_ = value;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_ = value;
  } else if (name == "retry") {
    int64_t ms = 0;
    bool digits = !value.empty() && value.size() <= 12;
    for (char c : value) {
      if (c < '0' || c > '9') digits = false;
      ms = ms * 10 + (c - '0');
    }
    if (digits) retry_ms_ = ms;
  }
  // Other field names are ignored, as the spec says.
  return Status::Ok();
}

bool SseParser::Next(SseMessage* out) {
  if (ready_.empty()) return false;
  *out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace zdap::api
