// Byte counts for people: "512 B", "1.5 KiB", ... "2.0 PiB" (binary units, one decimal above
// bytes). The CLI's listings and progress, and zdapd's host commands, print sizes this way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap {

std::string HumanBytes(uint64_t n);

// A byte count as people write it in config files: a whole number with an optional unit, B,
// decimal kB/KB MB GB TB (powers of 1000, as link speeds are counted) or binary KiB MiB GiB
// TiB (powers of 1024), case-insensitive, a space allowed before it: "100MB", "1.5 GiB" is
// refused (whole numbers only). InvalidArgument saying the accepted forms otherwise, or when
// it exceeds 2^63.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace zdap
