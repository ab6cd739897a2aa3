// Names of resources and clones (SPEC: ^[a-z0-9][a-z0-9-]{0,62}$) and snapshot ids
// (<resource>@<yyyymmddThhmmssZ>). Every name that becomes a path component or a
// command-line argument passes through here first.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace zdap {

bool IsValidName(std::string_view name);
// InvalidArgument naming `what` ("resource", "clone") when `name` is not valid.
Status ValidateName(std::string_view what, std::string_view name);

struct SnapshotId {
  std::string resource;
  std::string stamp;  // yyyymmddThhmmssZ
  std::string ToString() const { return resource + "@" + stamp; }
};
Status ParseSnapshotId(std::string_view text, SnapshotId* out);

}  // namespace zdap
