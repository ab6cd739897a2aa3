// CloneResolver: where a followed clone lives right now (SPEC "Proxy", clone-following mode).
//
// Asks the origins, in order, GET /v1/clones/{id} through libs/client (Authorization: Bearer
// when a token is set, X-Zdap-User when a user is set) and takes the first answer's host and
// port. It runs on its
// own thread, so a slow or silent origin never blocks an event loop: sessions ask for a
// refresh and are called back when it has finished.
//
// Bounded: refreshes asked for at the same time share one round of requests; each request has
// a deadline; between two rounds there is a pause that doubles after every round that found
// nothing (kMinPause .. kMaxPause) and is kMinPause again after one that did.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/clone.h"
#include "core/result.h"
#include "proxy/address.h"
#include "proxy/config.h"

namespace zdap::proxy {

class CloneResolver {
 public:
  static constexpr std::chrono::milliseconds kMinPause{200};
  static constexpr std::chrono::milliseconds kMaxPause{5000};

  explicit CloneResolver(CloneFollowConfig config, std::string listener_name);
  ~CloneResolver();  // Stop()
  CloneResolver(const CloneResolver&) = delete;
  CloneResolver& operator=(const CloneResolver&) = delete;

  // The last address found (none before the first successful round) and the number of
  // successful rounds so far, which names that answer.
  struct Answer {
    std::optional<HostPort> address;
    uint64_t generation = 0;
  };
  Answer Current() const;

  // Starts the thread and a first round.
  void Start();
  // Asks for an answer newer than `generation` (the one whose address just failed). `done`
  // runs on the resolver thread after the next round, or at once when a newer answer is
  // already there. It must only hand the work back to its own event loop.
  void Refresh(uint64_t generation, std::function<void()> done);
  // Ends the thread (a request under way finishes first, bounded by its deadline) and drops
  // the callbacks still waiting, without running them.
  void Stop();

  const CloneFollowConfig& config() const { return config_; }

 private:
  void Loop();
  // One round: the origins in order; the first address any of them gives.
  Result<HostPort> AskOrigins() const;
  Result<HostPort> AskOrigin(const std::string& origin) const;

  const CloneFollowConfig config_;
  const std::string listener_name_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<HostPort> address_;
  uint64_t generation_ = 0;
  bool wanted_ = false;
  bool stopping_ = false;
  std::vector<std::function<void()>> waiting_;
  std::thread thread_;
};

// The host and port of a clone object as zdapd returns it (JSON; fields host, port).
Result<HostPort> ParseCloneAddress(std::string_view json);
Result<HostPort> CloneAddress(const api::Clone& clone);

}  // namespace zdap::proxy
