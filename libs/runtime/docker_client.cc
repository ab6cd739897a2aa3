#include "runtime/docker_client.h"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace zdap::runtime {
namespace {

// The API version zdap speaks, as the path prefix of every request; the host only fills the
// Host header (the daemon is reached over its socket).
constexpr const char* kApiBase = "http://docker/v1.41";

}  // namespace

Result<DockerResponse> DockerClient::Request(const std::string& method, const std::string& target,
                                             const std::string& json_body,
                                             std::chrono::milliseconds timeout,
                                             size_t max_body) const {
  if (target.empty() || target[0] != '/') {
    return InvalidArgument(fmt::format("bad Docker API request {} {}", method, target));
  }
  static const net::HttpUrl base = *net::ParseHttpUrl(kApiBase);
  net::HttpClientOptions options;
  options.unix_socket = socket_path_;
  options.server_name = "the Docker daemon at " + socket_path_;
  options.connect_hint = "is dockerd running? runtime.socket sets the path";
  options.user_agent = "zdapd";
  options.max_body_bytes = max_body;
  options.connect_timeout = timeout;  // the deadline below is the bound: a wait may take long
  options.io_timeout = timeout;
  net::HttpRequest request;
  request.method = method;
  request.target = target;
  request.body = json_body;
  request.timeout = timeout;  // one for the whole exchange
  return net::HttpClient(base, std::move(options)).Send(request);
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
