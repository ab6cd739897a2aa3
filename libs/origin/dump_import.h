// DumpImport: the Source of a resource whose data is a dump (`source.dump`, `source.script`
// that prints a dump's path, `source.command` that streams one; engine/dump_source.h reads
// them). A refresh makes a fresh volume, initialises an empty cluster in it, starts an import
// server that listens on its unix socket only (nobody else sees a half import), has the engine
// import the dump and run `after`, readies the data for its clones (PrepareSnapshot), stops
// the server cleanly and makes the data durable. With `after` scripts (masking), the tables
// are rewritten before the stop and the engine's history (postgres: WAL) removed after it, so
// that what they replaced is in no file of the snapshot (Engine::ForgetReplaced). Phases:
// import (after), wipe, stop, snapshot.
// Nothing runs between refreshes.
#pragma once

#include "origin/source.h"

namespace zdap::origin {

class DumpImport : public Source {
 public:
  DumpImport(const config::Resource& resource, const SourceParts& parts)
      : resource_(resource), p_(parts) {}

  const char* kind() const override { return "dump"; }
  Result<SourceResult> Build(const SourceRun& run) override;

 private:
  const config::Resource& resource_;
  SourceParts p_;
};

}  // namespace zdap::origin
