// Volume metadata (driver.h VolumeMeta) as a file: one "key=value" line per entry, sorted.
#pragma once

#include <string>

#include "core/result.h"
#include "storage/driver.h"

namespace zdap::storage {

// The text of a metadata file. `meta` must be valid (ValidateVolumeMeta).
std::string FormatVolumeMeta(const VolumeMeta& meta);
// Parses what FormatVolumeMeta wrote; IoError naming `source` for anything else.
Result<VolumeMeta> ParseVolumeMeta(const std::string& text, const std::string& source);

}  // namespace zdap::storage
