#include "proxy/clone_resolver.h"

#include <fmt/format.h>

#include "client/origin_api.h"
#include "core/log.h"

namespace zdap::proxy {

Result<HostPort> ParseCloneAddress(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(api::Clone clone, api::ParseClone(text));
  return CloneAddress(clone);
}

Result<HostPort> CloneAddress(const api::Clone& clone) {
  if (clone.host.empty() || clone.port == 0) {
    return InvalidArgument("the clone object has no host and port");
  }
  // Same strict rules as a --target; an IPv6 host comes without brackets.
  const std::string& h = clone.host;
  auto parsed = ParseTarget(h.find(':') != std::string::npos ? fmt::format("[{}]:{}", h, clone.port)
                                                             : fmt::format("{}:{}", h, clone.port));
  if (!parsed.ok()) return parsed.status().Wrap("the clone's address");
  return *parsed;
}

CloneResolver::CloneResolver(CloneFollowConfig config, std::string listener_name)
    : config_(std::move(config)), listener_name_(std::move(listener_name)) {}

CloneResolver::~CloneResolver() {
  Stop();
}

CloneResolver::Answer CloneResolver::Current() const {
  std::lock_guard lock(mu_);
  return Answer{address_, generation_};
}

void CloneResolver::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  wanted_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void CloneResolver::Refresh(uint64_t generation, std::function<void()> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && generation_ <= generation) {
      waiting_.push_back(std::move(done));
      wanted_ = true;
      cv_.notify_one();
      return;
    }
    if (stopping_) return;
  }
  done();  // a newer answer is already there
}

void CloneResolver::Stop() {
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(waiting_);
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  dropped.clear();  // outside the lock: callbacks may own sessions
}

void CloneResolver::Loop() {
  auto pause = kMinPause;
  auto not_before = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || wanted_; });
    if (stopping_) return;
    if (cv_.wait_until(lock, not_before, [this] { return stopping_; })) return;
    wanted_ = false;
    lock.unlock();
    Result<HostPort> found = AskOrigins();
    lock.lock();
    if (found.ok()) {
      if (!address_ || !(*address_ == *found)) {
        log::Info("{}: clone {} is at {}", listener_name_, config_.id, found->ToString());
      }
      address_ = *found;
      ++generation_;
      pause = kMinPause;
    } else {
      log::Warn("{}: where is clone {}? {}", listener_name_, config_.id, found.status().message());
      pause = std::min(pause * 2, kMaxPause);
    }
    not_before = std::chrono::steady_clock::now() + pause;
    std::vector<std::function<void()>> done;
    done.swap(waiting_);
    lock.unlock();
    for (auto& f : done) f();
    done.clear();
    lock.lock();
  }
}

Result<HostPort> CloneResolver::AskOrigins() const {
  std::string errors;
  for (const std::string& origin : config_.origins) {
    Result<HostPort> r = AskOrigin(origin);
    if (r.ok()) return r;
    errors += (errors.empty() ? "" : "; ") + r.status().message();
  }
  return Unavailable(errors);
}

Result<HostPort> CloneResolver::AskOrigin(const std::string& origin) const {
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl url, net::ParseHttpUrl(origin));
  client::OriginApiOptions options;
  options.connect_timeout = std::chrono::seconds(2);
  options.io_timeout_cap = std::chrono::seconds(5);
  options.max_body_bytes = 1 << 20;
  options.user_agent = "zdap-proxyd";
  options.ca_file = config_.ca_file;
  options.ca_hint = "pass the CA that signed it with --ca FILE (or ZDAP_CA)";
  options.token_hint = "pass the token with --token T (or ZDAP_TOKEN)";
  client::OriginApi api(std::move(url), config_.token, config_.user, std::move(options));
  ZDAP_ASSIGN_OR_RETURN(api::Clone clone, api.GetClone(config_.id));
  return CloneAddress(clone);
}

}  // namespace zdap::proxy
