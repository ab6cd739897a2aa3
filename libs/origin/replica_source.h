// ReplicaSource: the Source of a `source.replica` resource (PostgreSQL). Its snapshots come
// from a hot standby that keeps following the primary (standby.h), taken without stopping
// it, so a new snapshot costs seconds whatever the database's size:
//   sync        the first refresh only: slot, base backup, the standby started;
//   checkpoint  waits until the standby has replayed what the primary had written when the
//               refresh began (so every commit that returned before it is in the snapshot),
//               then a restartpoint (less WAL for the copy to replay);
//   snapshot    a copy-on-write copy of the running standby's volume, as of one instant;
//   promote     a scratch server on the copy replays its WAL and ends recovery; the last
//               replayed commit's time is the snapshot's data_as_of;
//   after       the resource's user made a superuser, `after` scripts (wipe: as a dump's);
//   stop        a clean stop (pg_resetwal after masking, as a dump's);
//   seal        the refresher seals the volume.
// A primary that does not answer does not stop a refresh: the snapshot holds what the
// standby has, and data_as_of says how old that is.
//
// Between refreshes a monitor asks the standby every 2 s how it follows (State()); one that
// has been disconnected longer than `replica.max_disconnect` is logged at error level: the
// primary keeps WAL for its slot meanwhile.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "origin/source.h"
#include "origin/standby.h"

namespace zdap::origin {

class ReplicaSource : public Source {
 public:
  ReplicaSource(const config::Resource& resource, const SourceParts& parts);
  ~ReplicaSource() override;

  const char* kind() const override { return "replica"; }
  const char* seal_phase() const override { return "seal"; }
  Result<SourceResult> Build(const SourceRun& run) override;
  Status Adopt() override;
  Status Stop(bool remove) override;
  SourceState State() const override;

  // How often the monitor asks; how long a refresh waits for the standby to catch up.
  static constexpr auto kPollEvery = std::chrono::seconds(2);
  static constexpr auto kCatchUpLimit = std::chrono::minutes(2);
  // More WAL than this left to replay is "catching_up" rather than "streaming".
  static constexpr uint64_t kCatchingUpBytes = 16u << 20;

 private:
  void StartMonitor();
  void StopMonitor();
  void Poll();

  const config::Resource& resource_;
  SourceParts p_;
  Standby standby_;

  mutable std::mutex mu_;  // state_, disconnect_reported_
  SourceState state_;
  bool disconnect_reported_ = false;
  std::atomic<bool> stop_{false};
  WakeSignal wake_;
  std::thread monitor_;
};

}  // namespace zdap::origin
