#include "origin/source.h"

#include "origin/dump_import.h"

namespace zdap::origin {

Result<std::unique_ptr<Source>> MakeSource(const config::Resource& resource,
                                           const SourceParts& parts) {
  // A dump, a script that names one and a command that streams one are all imports (the
  // resource loader has refused every other kind). A new kind is a file and one line here.
  return std::unique_ptr<Source>(std::make_unique<DumpImport>(resource, parts));
}

}  // namespace zdap::origin
