// The override editor: adds and removes the compose services zdap owns in an override file
// (docker-compose.override.yml) by editing its text, so that everything else in the file --
// other services, comments, anchors, key order, CRLF line ends, a missing final newline --
// survives byte for byte, and attach followed by detach gives back the exact original.
//
// A zdap service is one block between marker comments, first under `services:`:
//
//   services:
//     # >>> zdap service db
//     # managed by zdap: clone chinook-7f3a ...; `zdap detach db` removes this block
//     db:
//       image: "zdap/proxyd:0.1.0"
//       ...
//     # <<< zdap service db
//     app: ...                       (the user's own services, untouched)
//
// When the file has no `services:` key, zdap appends one between `# >>> zdap services` and
// `# <<< zdap services`; when there was no file, the whole file is between `# >>> zdap file`
// and `# <<< zdap file`. Such scaffolding goes again with the last zdap service in it.
//
// Every edit is checked by parsing the result (yaml-cpp) and by undoing it; an edit that
// does not parse back exactly as intended is refused and the caller writes nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compose/proxy_service.h"
#include "core/result.h"

namespace zdap::compose {

inline constexpr size_t kMaxOverrideBytes = 1u << 20;

// Returns the new text of the override file with `service` added. `text` is the current
// content ("" when `exists` is false); `version` is written as `version:` into a file zdap
// creates (the base compose file's version, may be empty). Errors: the service exists already
// (Conflict), the file is not YAML, is too large, or its services are in flow style.
Result<std::string> AttachService(std::string_view text, bool exists, const ProxyService& service,
                                  const std::string& version);

struct DetachedText {
  std::string text;
  bool delete_file = false;  // the file was created by zdap and holds nothing else now
};

// Removes the zdap block of service `name` and any scaffolding left empty. NotFound when
// the file has no zdap block for `name`.
Result<DetachedText> DetachService(std::string_view text, std::string_view name);

// Names of the services that have a zdap block in `text`, in file order.
std::vector<std::string> ZdapServices(std::string_view text);

}  // namespace zdap::compose
