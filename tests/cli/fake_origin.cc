#include "fake_origin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace zdap::test {

bool FakeRequest::HasHeader(const std::string& line) const {
  return headers.find("\r\n" + line + "\r\n") != std::string::npos;
}

FakeOrigin::FakeOrigin(Handler handler, int port) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("FakeOrigin: bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeOrigin::~FakeOrigin() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<FakeRequest> FakeOrigin::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeOrigin::Serve() {
  std::vector<int> hung;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    for (;;) {
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 5000) <= 0) break;
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::string lower = data.substr(0, header_end);
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t cl = lower.find("content-length:");
          if (cl != std::string::npos) content_length = std::stoul(lower.substr(cl + 15));
        }
      }
    }
    FakeRequest req;
    if (header_end != std::string::npos) {
      size_t sp1 = data.find(' '), sp2 = data.find(' ', sp1 + 1);
      req.method = data.substr(0, sp1);
      req.target = data.substr(sp1 + 1, sp2 - sp1 - 1);
      req.headers = data.substr(0, header_end + 2);
      req.body = data.substr(header_end + 4);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    FakeReply reply = handler_(req);
    if (reply.hang) {
      hung.push_back(fd);
      continue;
    }
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
    if (reply.status != 204) {
      out +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
          "\r\n";
    }
    out += "Connection: close\r\n\r\n";
    if (reply.status != 204) out += reply.body;
    size_t off = 0;
    while (off < out.size()) {
      // MSG_NOSIGNAL: a client that hung up must not kill the test with SIGPIPE.
      ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  for (int fd : hung) ::close(fd);
}

}  // namespace zdap::test
