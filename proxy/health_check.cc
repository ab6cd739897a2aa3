#include "proxy/health_check.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"

namespace zdap::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

HealthChecker::HealthChecker(asio::any_io_executor executor, ListenerRuntime* listener,
                             size_t index)
    : socket_(executor),
      resolver_(executor),
      deadline_(executor),
      next_(executor),
      listener_(listener),
      index_(index) {}

void HealthChecker::Start() {
  RunCheck();
}

void HealthChecker::Stop() {
  stopped_ = true;
  ++gen_;
  error_code ignored;
  deadline_.cancel();
  next_.cancel();
  resolver_.cancel();
  socket_.close(ignored);
}

void HealthChecker::RunCheck() {
  if (stopped_) return;
  uint64_t gen = ++gen_;
  running_ = true;
  const HealthCheckConfig& check = listener_->config.check;
  const HostPort& address = listener_->targets.at(index_).address;

  deadline_.expires_after(check.timeout);
  deadline_.async_wait([self = shared_from_this(), gen](error_code ec) {
    if (ec || gen != self->gen_) return;
    self->Finish(gen, false, "timed out");
  });

  error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (!ec) {
    socket_.async_connect(
        tcp::endpoint(ip, address.port),
        [self = shared_from_this(), gen](error_code ec) { self->OnConnected(gen, ec); });
    return;
  }
  resolver_.async_resolve(
      address.host, std::to_string(address.port),
      [self = shared_from_this(), gen](error_code ec, tcp::resolver::results_type results) {
        if (gen != self->gen_) return;
        if (ec) {
          self->Finish(gen, false, "resolve: " + ec.message());
          return;
        }
        asio::async_connect(
            self->socket_, results,
            [self, gen](error_code ec, const tcp::endpoint&) { self->OnConnected(gen, ec); });
      });
}

void HealthChecker::OnConnected(uint64_t gen, error_code ec) {
  if (gen != gen_) return;
  if (ec) {
    Finish(gen, false, "connect: " + ec.message());
    return;
  }
  switch (listener_->config.check.kind) {
    case CheckKind::kNone:
    case CheckKind::kTcp:
      Finish(gen, true, {});
      return;
    case CheckKind::kPostgres:
      probe_ = wire::NewPostgresProbe();
      break;
    case CheckKind::kMysql:
      probe_ = wire::NewMysqlProbe();
      break;
  }
  std::string opening = probe_->Opening();
  if (opening.empty()) {
    ReadReply(gen);
  } else {
    Send(gen, std::move(opening), false, false);
  }
}

void HealthChecker::Send(uint64_t gen, std::string bytes, bool last, bool passed) {
  auto msg = std::make_shared<std::string>(std::move(bytes));
  asio::async_write(socket_, asio::buffer(*msg),
                    [self = shared_from_this(), gen, msg, last, passed](error_code ec, size_t) {
                      if (gen != self->gen_) return;
                      if (last) {
                        self->Finish(gen, passed, {});
                      } else if (ec) {
                        self->Finish(gen, false, "write: " + ec.message());
                      } else {
                        self->ReadReply(gen);
                      }
                    });
}

void HealthChecker::ReadReply(uint64_t gen) {
  socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this(), gen](error_code ec,
                                                                                  size_t n) {
    if (gen != self->gen_) return;
    if (ec) {
      self->Finish(gen, false,
                   ec == asio::error::eof ? "closed before answering" : "read: " + ec.message());
      return;
    }
    wire::ProbeStep step = self->probe_->Feed(std::string_view(self->buffer_.data(), n));
    if (step.verdict == wire::Verdict::kNeedMore) {
      if (step.send.empty()) {
        self->ReadReply(gen);
      } else {
        self->Send(gen, std::move(step.send), false, false);
      }
      return;
    }
    bool passed = step.verdict == wire::Verdict::kPass;
    if (!step.send.empty()) {
      // The polite goodbye (Terminate, COM_QUIT) before the close; a write error after a
      // verdict does not change it.
      self->Send(gen, std::move(step.send), true, passed);
      return;
    }
    self->Finish(gen, passed, std::move(step.reason));
  });
}

void HealthChecker::Finish(uint64_t gen, bool passed, std::string reason) {
  if (gen != gen_ || !running_) return;
  running_ = false;
  ++gen_;  // stale handlers of this check now return
  error_code ignored;
  deadline_.cancel();
  resolver_.cancel();
  socket_.close(ignored);
  socket_ = tcp::socket(socket_.get_executor());
  probe_.reset();

  Target& target = listener_->targets.at(index_);
  bool was_up = target.up.load(std::memory_order_relaxed);
  if (listener_->targets.ReportCheck(index_, passed)) {
    if (was_up) {
      log::Warn("{}: target {} is down: {} check failed: {}", listener_->config.name, target.label,
                CheckKindName(listener_->config.check.kind), reason);
    } else {
      log::Info("{}: target {} is up", listener_->config.name, target.label);
    }
  } else if (!passed) {
    log::Debug("{}: target {} check failed: {}", listener_->config.name, target.label, reason);
  }
  if (stopped_) return;
  next_.expires_after(listener_->config.check.interval);
  next_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->stopped_) return;
    self->RunCheck();
  });
}

}  // namespace zdap::proxy
