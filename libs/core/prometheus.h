// Prometheus' text exposition format: the one escaping rule both zdapd's and zdap-proxyd's
// /metrics use for label values.
#pragma once

#include <string>
#include <string_view>

namespace zdap {

// A label value as it stands between double quotes: backslash, double quote and newline
// escaped (\\, \", \n); every other byte as it is (the format is UTF-8).
std::string EscapeLabelValue(std::string_view value);

}  // namespace zdap
