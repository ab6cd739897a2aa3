// The route table's entries, one file per resource: routes_status.cc (health, status,
// metrics), routes_resources.cc (resources and snapshots), routes_clones.cc (clones),
// routes_jobs.cc (refresh jobs, snapshot deletion). Each Add*Routes adds its routes with their
// handlers over `context`.
#pragma once

#include <string>

#include "metrics.h"
#include "origin/origin.h"
#include "route_table.h"

namespace zdap::daemon {

// The handlers' world. `origin` is null only where no handler runs (the fuzz target).
struct RouteContext {
  origin::Origin* origin;
  std::string version;
  Metrics& metrics;
};

void AddStatusRoutes(RouteTable& table, RouteContext& context);
void AddResourceRoutes(RouteTable& table, RouteContext& context);
void AddCloneRoutes(RouteTable& table, RouteContext& context);
void AddJobRoutes(RouteTable& table, RouteContext& context);

}  // namespace zdap::daemon
