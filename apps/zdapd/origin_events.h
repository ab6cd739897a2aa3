// OriginEvents: the origin's observer (libs/origin/observer.h) that turns what happens on the
// origin into issue 24's events on the dashboard's bus: clone.created/reset/updated/destroyed
// (with the reason), pool.exhausted, refresh.started/finished/failed with snapshot.created,
// and clone.expiring from the timed work's expiry sweep. zdapd's main sets it on the Origin
// before serving and clears it before either goes.
#pragma once

#include "dashboard_setup.h"
#include "origin/observer.h"
#include "origin/origin.h"

namespace zdap::daemon {

class OriginEvents : public origin::OriginObserver {
 public:
  // `origin` is read (its clone list) on the expiry sweep; both outlive this.
  OriginEvents(origin::Origin& origin, Dashboard& dashboard)
      : origin_(origin), dashboard_(dashboard) {}

  void CloneCreated(const catalog::CloneRecord& clone, const std::string& actor) override;
  void CloneReset(const catalog::CloneRecord& clone, const std::string& actor) override;
  void CloneUpdated(const catalog::CloneRecord& clone, const std::string& actor) override;
  void CloneDestroyed(const catalog::CloneRecord& clone, origin::DestroyReason reason,
                      const std::string& actor) override;
  void PoolExhausted(const std::string& resource) override;
  void StandbyStateChanged(const std::string& resource, const std::string& state,
                           const std::string& previous) override;
  void RefreshStarted(const origin::JobInfo& job, const std::string& actor) override;
  void RefreshFinished(const origin::JobInfo& job) override;
  void SnapshotDeleted(const std::string& resource, const std::string& id,
                       const std::string& actor) override;
  void ExpirySwept(SystemTime now) override;

 private:
  void PublishClone(std::string_view type, const catalog::CloneRecord& clone,
                    const std::string& actor, std::string reason = "");

  origin::Origin& origin_;
  Dashboard& dashboard_;
};

}  // namespace zdap::daemon
