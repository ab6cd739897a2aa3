// Durations on zdap-proxyd's command line: "500ms", "2s", "1m30s", "1h", and "0" (= off where
// an option allows it). Units ms, s, m, h; several may be combined, largest first is not
// required. Refuses negatives, bare numbers other than 0, and anything above 24 hours.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::proxy {

Result<std::chrono::milliseconds> ParseMillis(std::string_view text);
std::string FormatMillis(std::chrono::milliseconds d);  // "1500ms", "2s", "0"

}  // namespace zdap::proxy
