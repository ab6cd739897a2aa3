#include "origin/env.h"

namespace zdap::origin {

SystemTime RealClock::Now() {
  return SystemNow();
}

void RealClock::SleepUntil(SystemTime deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return woken_; });
  woken_ = false;
}

void RealClock::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

SystemTime FakeClock::Now() {
  std::lock_guard lock(mu_);
  return now_;
}

void FakeClock::SleepUntil(SystemTime deadline) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return woken_ || now_ >= deadline; });
  woken_ = false;
}

void FakeClock::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void FakeClock::Advance(std::chrono::seconds by) {
  std::lock_guard lock(mu_);
  now_ += by;
  cv_.notify_all();
}

namespace {

class RealEnv : public Env {
 public:
  Clock& clock() override { return clock_; }

 private:
  RealClock clock_;
};

}  // namespace

Env* Env::Default() {
  static RealEnv* env = new RealEnv();  // never destroyed: threads may use it at exit
  return env;
}

}  // namespace zdap::origin
