#include "runtime/docker_client.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace zdap::runtime {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
// A unix-socket stream with Beast's per-operation timeouts.
using UnixStream = beast::basic_stream<local, asio::any_io_executor, beast::unlimited_rate_policy>;

constexpr const char* kApiPrefix = "/v1.41";

// Beast's parser decodes chunked transfer coding and enforces the limits; a streamed body
// (logs) ends when the daemon closes the connection or the last chunk arrives.
using ReplyParser = http::response_parser<http::string_body>;

void LimitReply(ReplyParser& parser, size_t max_body) {
  parser.body_limit(max_body);
  parser.header_limit(64 * 1024);
}

// Beast accepts any three digits; a status below 100 is not HTTP (found by fuzzing).
bool StatusIsHttp(const ReplyParser& parser) {
  return parser.get().result_int() >= 100;
}

DockerResponse TakeReply(ReplyParser& parser) {
  auto& res = parser.get();
  DockerResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

}  // namespace

Result<DockerResponse> ParseDockerReply(std::string_view raw, size_t max_body) {
  ReplyParser parser;
  LimitReply(parser, max_body);
  parser.eager(true);
  beast::error_code ec;
  size_t at = 0;
  while (!parser.is_done() && at < raw.size()) {
    size_t used = parser.put(asio::buffer(raw.data() + at, raw.size() - at), ec);
    at += used;
    if (ec == http::error::need_more) {
      ec = {};
      break;  // all bytes given: what is missing can only be the end of the stream
    }
    if (ec || used == 0) break;
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec == http::error::body_limit) {
    return IoError(fmt::format("Docker API reply larger than {} bytes", max_body));
  }
  if (ec) return InvalidArgument(fmt::format("malformed Docker API reply: {}", ec.message()));
  if (!parser.is_done()) return InvalidArgument("malformed Docker API reply: incomplete");
  if (!StatusIsHttp(parser)) return InvalidArgument("malformed Docker API reply: status < 100");
  return TakeReply(parser);
}

Result<DockerResponse> DockerClient::Request(const std::string& method, const std::string& target,
                                             const std::string& json_body,
                                             std::chrono::milliseconds timeout,
                                             size_t max_body) const {
  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown || target.empty() || target[0] != '/') {
    return InvalidArgument(fmt::format("bad Docker API request {} {}", method, target));
  }
  auto fail = [&](std::string_view what, const beast::error_code& ec) {
    std::string why = ec == beast::error::timeout || ec == asio::error::operation_aborted
                          ? fmt::format("timed out after {} ms", timeout.count())
                          : ec.message();
    return Unavailable(
        fmt::format("Docker API {} {} on {}: {}: {}", method, target, socket_path_, what, why));
  };
  asio::io_context ioc;
  UnixStream stream(ioc);
  // One deadline for the whole exchange: each step gets what is left of it.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto run = [&]() {
    ioc.run();
    ioc.restart();
  };
  beast::error_code ec;

  stream.expires_at(deadline);
  stream.async_connect(local::endpoint(socket_path_), [&](beast::error_code e) { ec = e; });
  run();
  if (ec) {
    return Unavailable(fmt::format(
        "cannot reach the Docker daemon at {}: {} (is dockerd running? runtime.socket sets "
        "the path)",
        socket_path_, ec.message()));
  }

  http::request<http::string_body> req(verb, kApiPrefix + target, 11);
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "zdapd");
  req.set(http::field::connection, "close");
  if (!json_body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = json_body;
  }
  req.prepare_payload();
  stream.expires_at(deadline);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  run();
  if (ec) return fail("sending the request", ec);

  beast::flat_buffer buffer;
  ReplyParser parser;
  LimitReply(parser, max_body);
  stream.expires_at(deadline);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  run();
  if (ec == http::error::body_limit) {
    return IoError(fmt::format("Docker API {} {}: the reply is larger than {} bytes", method,
                               target, max_body));
  }
  if (ec) return fail("reading the reply", ec);
  if (!StatusIsHttp(parser)) {
    return Unavailable(fmt::format("Docker API {} {} on {}: status {} is not HTTP", method, target,
                                   socket_path_, parser.get().result_int()));
  }
  DockerResponse out = TakeReply(parser);
  beast::error_code ignored;
  stream.socket().shutdown(local::socket::shutdown_both, ignored);
  return out;
}

std::string DockerErrorMessage(const DockerResponse& response) {
  boost::json::error_code ec;
  auto v = boost::json::parse(response.body, ec);
  if (!ec && v.is_object()) {
    if (auto* m = v.as_object().if_contains("message"); m != nullptr && m->is_string()) {
      return std::string(m->as_string());
    }
  }
  std::string body = response.body.substr(0, 300);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  if (body.empty()) return fmt::format("HTTP {}", response.status);
  return fmt::format("HTTP {}: {}", response.status, body);
}

Result<std::string> DemultiplexLogs(std::string_view raw) {
  std::string out;
  size_t at = 0;
  while (at < raw.size()) {
    if (raw.size() - at < 8) {
      return InvalidArgument(
          fmt::format("docker log stream: truncated frame header at byte {}", at));
    }
    auto b = [&](size_t i) { return static_cast<unsigned char>(raw[at + i]); };
    if (b(0) > 2 || b(1) != 0 || b(2) != 0 || b(3) != 0) {
      return InvalidArgument(fmt::format("docker log stream: bad frame header at byte {}", at));
    }
    size_t len = (size_t{b(4)} << 24) | (size_t{b(5)} << 16) | (size_t{b(6)} << 8) | b(7);
    at += 8;
    if (len > raw.size() - at) {
      return InvalidArgument(fmt::format(
          "docker log stream: frame of {} bytes at byte {} runs past the end ({} bytes)", len,
          at - 8, raw.size()));
    }
    out.append(raw.substr(at, len));
    at += len;
  }
  return out;
}

std::string LastLines(std::string_view text, int lines) {
  if (lines <= 0) return "";
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t begin = end;
  for (int n = 0; begin > 0; --begin) {
    if (text[begin - 1] == '\n' && ++n == lines) break;
  }
  return std::string(text.substr(begin, end - begin));
}

}  // namespace zdap::runtime
