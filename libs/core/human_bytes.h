// Byte counts for people: "512 B", "1.5 KiB", ... "2.0 PiB" (binary units, one decimal above
// bytes). The CLI's listings and progress, and zdapd's host commands, print sizes this way.
#pragma once

#include <cstdint>
#include <string>

namespace zdap {

std::string HumanBytes(uint64_t n);

}  // namespace zdap
