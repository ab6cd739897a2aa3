// zdap-proxyd's byte pump, end to end: the built binary between real sockets on 127.0.0.1.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "proxy/net_helpers.h"

using namespace zdap::test;

namespace {

constexpr size_t kStreamBytes = 100u * 1024 * 1024;

// pump: "buffered" or "splice" (--pump); the data-path tests run with both.
std::vector<std::string> ProxyArgs(uint16_t target_port, const std::string& pump = "buffered") {
  return {"--listen",  "127.0.0.1:0", "--target", "127.0.0.1:" + std::to_string(target_port),
          "--threads", "2",           "--check",  "none",
          "--pump",    pump};
}

// Sends kStreamBytes generated from `seed`, then half-closes; returns the hash of what it sent.
bool SendStream(int fd, uint64_t seed, uint64_t* hash) {
  std::vector<char> buf(256 * 1024);
  Fnv fnv;
  size_t left = kStreamBytes;
  while (left > 0) {
    size_t n = std::min(left, buf.size());
    FillRandom(&seed, buf.data(), n);
    fnv.Add(buf.data(), n);
    if (!SendAll(fd, buf.data(), n, std::chrono::seconds(60))) return false;
    left -= n;
  }
  ::shutdown(fd, SHUT_WR);
  *hash = fnv.h;
  return true;
}

// Reads until EOF; returns the hash and the count.
bool ReceiveStream(int fd, uint64_t* hash, size_t* count) {
  std::vector<char> buf(256 * 1024);
  Fnv fnv;
  *count = 0;
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) {
      *hash = fnv.h;
      return true;
    }
    if (n < 0) return false;
    fnv.Add(buf.data(), static_cast<size_t>(n));
    *count += static_cast<size_t>(n);
  }
  return false;
}

// Starts the proxy in front of `server` and connects a client through it.
int ConnectThroughProxy(const TcpServer& server, ProxyProcess* proxy, const std::string& pump) {
  REQUIRE(server.port() != 0);
  REQUIRE(proxy->Start(ProxyArgs(server.port(), pump)));
  uint16_t port = proxy->WaitListening();
  REQUIRE(port != 0);
  int fd = ConnectLocal(port);
  REQUIRE(fd >= 0);
  return fd;
}

}  // namespace

TEST_CASE("100 MB pass both ways at once, intact") {
  std::string pump = GENERATE(as<std::string>{}, "buffered", "splice");
  INFO("--pump " << pump);
  struct Side {
    bool sent_ok = false, received_ok = false;
    uint64_t sent_hash = 0, received_hash = 0;
    size_t received = 0;
  };
  Side upstream;
  std::atomic<int> connections{0};
  std::atomic<bool> upstream_done{false};
  TcpServer server([&](int fd) {
    connections.fetch_add(1);
    std::thread sender([&] { upstream.sent_ok = SendStream(fd, 0x5eed0001, &upstream.sent_hash); });
    upstream.received_ok = ReceiveStream(fd, &upstream.received_hash, &upstream.received);
    sender.join();
    upstream_done = true;
  });
  ProxyProcess proxy;
  int fd = ConnectThroughProxy(server, &proxy, pump);
  Side client;
  std::thread sender([&] { client.sent_ok = SendStream(fd, 0x5eed0002, &client.sent_hash); });
  client.received_ok = ReceiveStream(fd, &client.received_hash, &client.received);
  sender.join();
  ::close(fd);
  // The client is done once its bytes are in the kernel; the upstream may still be reading.
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!upstream_done.load() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(upstream_done.load());
  server.Stop();

  CHECK(connections.load() == 1);
  REQUIRE(client.sent_ok);
  REQUIRE(upstream.sent_ok);
  REQUIRE(client.received_ok);
  REQUIRE(upstream.received_ok);
  CHECK(client.received == kStreamBytes);
  CHECK(upstream.received == kStreamBytes);
  CHECK(client.received_hash == upstream.sent_hash);
  CHECK(upstream.received_hash == client.sent_hash);

  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(std::chrono::seconds(20)) == 0);
}

// Request/reply like a database client: each message must come back whole before the next is
// sent, so every size goes through the pump on its own: below, at and above the size of a
// direction's first read (1 KiB) and of its pool buffer (64 KiB).
TEST_CASE("round trips of every size come back whole, one at a time") {
  std::string pump = GENERATE(as<std::string>{}, "buffered", "splice");
  INFO("--pump " << pump);
  TcpServer server([](int fd) {  // echo
    std::vector<char> buf(16 * 1024);
    while (true) {
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0 || !SendAll(fd, buf.data(), static_cast<size_t>(n))) return;
    }
  });
  ProxyProcess proxy;
  int fd = ConnectThroughProxy(server, &proxy, pump);
  uint64_t seed = 0x5eed0003;
  size_t sizes[] = {1,    2,    100,  1023,  1024,  1025,  2047,  2048,  4096,
                    5000, 8192, 8193, 65535, 65536, 65537, 66560, 66561, 300000};
  for (size_t size : sizes) {
    for (int repeat = 0; repeat < 3; ++repeat) {
      std::string sent(size, '\0');
      FillRandom(&seed, sent.data(), size);
      REQUIRE(SendAll(fd, sent));
      std::string got;
      REQUIRE(ReadExactly(fd, size, &got));
      INFO("size " << size << ", repeat " << repeat);
      REQUIRE(got == sent);
    }
  }
  ::close(fd);
  server.Stop();
  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("a client that half-closes still gets the whole reply") {
  std::string pump = GENERATE(as<std::string>{}, "buffered", "splice");
  INFO("--pump " << pump);
  // Upstream: reads to EOF, then answers with a large reply that depends on all it read.
  TcpServer server([](int fd) {
    std::string request;
    if (!ReadToEof(fd, &request)) return;
    std::string reply = "got " + std::to_string(request.size()) + " bytes:";
    for (int i = 0; i < 2000; ++i) reply += request;  // ~ 1 MB
    reply += ":end";
    SendAll(fd, reply);
  });
  ProxyProcess proxy;
  REQUIRE(proxy.Start(ProxyArgs(server.port(), pump)));
  uint16_t port = proxy.WaitListening();
  REQUIRE(port != 0);

  for (int round = 0; round < 3; ++round) {
    int fd = ConnectLocal(port);
    REQUIRE(fd >= 0);
    std::string request(512, static_cast<char>('a' + round));
    REQUIRE(SendAll(fd, request));
    REQUIRE(::shutdown(fd, SHUT_WR) == 0);
    std::string reply;
    REQUIRE(ReadToEof(fd, &reply));
    ::close(fd);
    std::string expected = "got 512 bytes:";
    for (int i = 0; i < 2000; ++i) expected += request;
    expected += ":end";
    CHECK(reply.size() == expected.size());
    CHECK(reply == expected);
  }
  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("the upstream half-closing first passes its EOF on and keeps the other way open") {
  std::string pump = GENERATE(as<std::string>{}, "buffered", "splice");
  INFO("--pump " << pump);
  // Upstream: sends a greeting, half-closes, then echoes back the size of what it reads.
  TcpServer server([](int fd) {
    SendAll(fd, std::string("hello"));
    ::shutdown(fd, SHUT_WR);
    std::string rest;
    ReadToEof(fd, &rest);
  });
  std::string upstream_got;
  ProxyProcess proxy;
  REQUIRE(proxy.Start(ProxyArgs(server.port(), pump)));
  uint16_t port = proxy.WaitListening();
  REQUIRE(port != 0);
  int fd = ConnectLocal(port);
  REQUIRE(fd >= 0);
  std::string greeting;
  REQUIRE(ReadToEof(fd, &greeting));  // EOF arrives although we have not closed
  CHECK(greeting == "hello");
  CHECK(SendAll(fd, std::string(100000, 'x')));  // the other direction still flows
  ::shutdown(fd, SHUT_WR);
  CHECK(WaitClosed(fd, std::chrono::seconds(10)));
  ::close(fd);
  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("a dead target closes the client connection promptly") {
  int holder;
  uint16_t dead = DeadPort(&holder);
  ProxyProcess proxy;
  REQUIRE(proxy.Start({"--listen", "127.0.0.1:0", "--target", "127.0.0.1:" + std::to_string(dead),
                       "--check", "none", "--threads", "1"}));
  uint16_t port = proxy.WaitListening();
  REQUIRE(port != 0);
  for (int i = 0; i < 3; ++i) {
    int fd = ConnectLocal(port);
    REQUIRE(fd >= 0);
    auto start = Clock::now();
    CHECK(WaitClosed(fd, std::chrono::seconds(3)));
    CHECK(Clock::now() - start < std::chrono::seconds(2));
    ::close(fd);
  }
  CHECK(proxy.WaitOutput("no target could be reached", std::chrono::seconds(5)));
  ::close(holder);
  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("SIGTERM stops accepting and lets open connections finish") {
  // Echo upstream.
  TcpServer server([](int fd) {
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (!SendAll(fd, buf, static_cast<size_t>(n))) break;
    }
  });
  ProxyProcess proxy;
  REQUIRE(proxy.Start(ProxyArgs(server.port())));
  uint16_t port = proxy.WaitListening();
  REQUIRE(port != 0);
  int fd = ConnectLocal(port);
  REQUIRE(fd >= 0);
  std::string echo;
  REQUIRE(SendAll(fd, std::string("before")));
  REQUIRE(ReadExactly(fd, 6, &echo));

  proxy.Signal(SIGTERM);
  REQUIRE(proxy.WaitOutput("stopping: no new connections", std::chrono::seconds(10)));
  CHECK(ConnectLocal(port, std::chrono::seconds(2)) < 0);  // no longer accepting
  // The open connection still works while draining.
  REQUIRE(SendAll(fd, std::string("during")));
  echo.clear();
  REQUIRE(ReadExactly(fd, 6, &echo));
  CHECK(echo == "during");
  CHECK(proxy.Wait(std::chrono::milliseconds(300)) == -1);  // still draining
  ::close(fd);
  CHECK(proxy.Wait(std::chrono::seconds(10)) == 0);  // exits once the last one is done
}

TEST_CASE("the drain deadline closes connections that do not finish") {
  TcpServer server([](int fd) {
    std::string ignored;
    ReadToEof(fd, &ignored, std::chrono::seconds(30));
  });
  ProxyProcess proxy;
  auto args = ProxyArgs(server.port());
  args.insert(args.end(), {"--drain-timeout", "300ms"});
  REQUIRE(proxy.Start(args));
  uint16_t port = proxy.WaitListening();
  REQUIRE(port != 0);
  int fd = ConnectLocal(port);
  REQUIRE(fd >= 0);
  // The session exists once the upstream has accepted its connection.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (server.accepted() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(server.accepted() == 1);
  proxy.Signal(SIGTERM);
  CHECK(WaitClosed(fd, std::chrono::seconds(10)));
  CHECK(proxy.Wait(std::chrono::seconds(10)) == 0);
  CHECK(proxy.output().find("drain deadline reached") != std::string::npos);
  ::close(fd);
}
