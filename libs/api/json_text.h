// JSON text written straight into a string, for the few answers that are large and hot
// (GET /v1/clones with hundreds of clones): no boost::json value tree in between. The output
// is byte for byte what boost::json::serialize writes for the same value.
#pragma once

#include <string>
#include <string_view>

namespace zdap::api {

// `s` as a JSON string literal, quotes included: '"' and '\\' and control characters escaped
// as boost::json does (\b \f \n \r \t, else \u00xx); other bytes, UTF-8 included, as they are.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace zdap::api
