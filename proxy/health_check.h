// HealthChecker: the active health check of one target (SPEC: tcp, postgres, mysql). Every
// `interval` it connects within `timeout`, runs the protocol exchange of wire/health_probe.h and
// reports pass or fail to the TargetSet, logging each change of state. Runs on one event loop;
// owned by shared_ptrs held in its pending handlers, ended by Stop().
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <string>

#include "proxy/listener.h"
#include "wire/health_probe.h"

namespace zdap::proxy {

class HealthChecker : public std::enable_shared_from_this<HealthChecker> {
 public:
  using tcp = boost::asio::ip::tcp;

  HealthChecker(boost::asio::any_io_executor executor, ListenerRuntime* listener, size_t index);

  void Start();  // the first check runs at once
  void Stop();

 private:
  void RunCheck();
  void OnConnected(uint64_t gen, boost::system::error_code ec);
  void ReadReply(uint64_t gen);
  // Writes `bytes`, then reads the reply or, when `last`, ends the check with `passed`.
  void Send(uint64_t gen, std::string bytes, bool last, bool passed);
  void Finish(uint64_t gen, bool passed, std::string reason);

  tcp::socket socket_;
  tcp::resolver resolver_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer next_;
  ListenerRuntime* const listener_;
  const size_t index_;
  uint64_t gen_ = 0;  // number of the check under way; stale handlers see another number
  bool running_ = false;
  bool stopped_ = false;
  std::unique_ptr<wire::HealthProbe> probe_;  // the conversation of the check under way
  std::array<char, 1024> buffer_;
};

}  // namespace zdap::proxy
