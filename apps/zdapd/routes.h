// The route table's entries, one file per resource: routes_status.cc (health, status,
// metrics), routes_resources.cc (resources and snapshots), routes_clones.cc (clones),
// routes_jobs.cc (refresh jobs, snapshot deletion), routes_dashboard.cc (issue 24). Each Add*Routes
// adds its routes with their handlers over `context`.
#pragma once

#include <string>

#include "authenticator.h"
#include "dashboard.h"
#include "metrics.h"
#include "origin/origin.h"
#include "route_table.h"

namespace zdap::daemon {

// The handlers' world. `origin` is null only where no handler runs (the fuzz target).
struct RouteContext {
  origin::Origin* origin;
  std::string version;
  Metrics& metrics;
  Authenticator* auth = nullptr;
  DashboardParts dashboard;  // issue 24: events, webhooks, audit, sessions (each may be null)
};

void AddStatusRoutes(RouteTable& table, RouteContext& context);
void AddResourceRoutes(RouteTable& table, RouteContext& context);
void AddCloneRoutes(RouteTable& table, RouteContext& context);
void AddJobRoutes(RouteTable& table, RouteContext& context);
// routes_replication.cc: snapshot streams for follower origins (issue 23).
void AddReplicationRoutes(RouteTable& table, RouteContext& context);
// routes_dashboard.cc: /v1/events, /v1/webhooks/deliveries, /v1/audit, /v1/tokens, /ui/session.
void AddDashboardRoutes(RouteTable& table, RouteContext& context);

}  // namespace zdap::daemon
