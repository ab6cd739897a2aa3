// OriginPull: the Source of a `source.origin` resource, a follower (issue 23). Its snapshots
// are pulled from the same resource on an upstream origin and keep upstream's ids, created_at,
// data_as_of and the name of the origin that made them, so that one id names the same data on
// every origin that holds it.
//   plan   asks upstream for the resource's snapshots (GET /v1/resources/{r}); nothing new
//          when this origin holds upstream's newest already, else that one is pulled;
//   pull   GET .../snapshots/{id}/stream with the formats this store receives and the
//          snapshots it holds (upstream may answer with the difference from one of them);
//          the frames are checked as they come (api/snapshot_stream.h), the payload goes into
//          the store's receiver (storage/driver.h), paced by `replication.rate_limit`;
//          progress: bytes moved of the announced size;
//   seal   only once the trailer's length and sha256 match what arrived and the receiver
//          exited cleanly; the refresher seals the volume.
// A store with less free space than the announced size fails before taking a byte. Whatever
// fails (upstream unreachable or killed mid-stream, a wrong token, a flipped byte) fails the
// job with what happened, and the receiver removes what it made; a crash leaves a volume that
// Recovery removes (the refresher's journal) and hidden leftovers that the store's own
// recovery removes. btrfs cannot resume a cut stream: the next refresh starts again, from the
// newest snapshot both sides still hold. `after` does not run: upstream's already did.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "origin/source.h"

namespace zdap::origin {

class OriginPull : public Source {
 public:
  OriginPull(const config::Resource& resource, const SourceParts& parts);

  const char* kind() const override { return "origin"; }
  const char* seal_phase() const override { return "seal"; }
  Result<SourcePlan> Plan() override;
  Result<SourceResult> Build(const SourceRun& run) override;
  // `state` empty (nothing runs between pulls), `pull` set.
  SourceState State() const override;

 private:
  // This store's snapshots of the resource, oldest first.
  Result<std::vector<std::string>> HeldSnapshots() const;

  const config::Resource& resource_;
  const config::UpstreamSpec& upstream_;
  SourceParts p_;

  mutable std::mutex mu_;
  PullState pull_;
};

}  // namespace zdap::origin
