// FakeOrigin: a tiny HTTP/1.1 server on 127.0.0.1 for tests of the zdap HTTP client and CLI.
// Serves one request per connection (the client sends Connection: close) from a handler, and
// records every request it saw.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zdap::test {

struct FakeRequest {
  std::string method, target, headers, body;      // headers: the raw header block
  bool HasHeader(const std::string& line) const;  // e.g. "X-Zdap-User: alice" (case-sensitive)
};

struct FakeReply {
  int status = 200;
  std::string body;
  bool hang = false;  // never answer (for timeouts)
};

class FakeOrigin {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&)>;
  // `port` 0 = any free one; else that port on 127.0.0.1 (a receiver that comes back).
  explicit FakeOrigin(Handler handler, int port = 0);
  ~FakeOrigin();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<FakeRequest> requests() const;

 private:
  void Serve();
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::thread thread_;
};

}  // namespace zdap::test
