#include "core/names.h"

#include <fmt/format.h>

#include "core/time.h"

namespace zdap {

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(i > 0 && c == '-')) return false;
  }
  return true;
}

Status ValidateName(std::string_view what, std::string_view name) {
  if (IsValidName(name)) return Status::Ok();
  std::string shown(name.substr(0, 80));
  return InvalidArgument(fmt::format(
      "{} name '{}' is not valid: use 1-63 lower-case letters, digits and '-', not starting "
      "with '-'",
      what, shown));
}

Status ParseSnapshotId(std::string_view text, SnapshotId* out) {
  auto at = text.find('@');
  if (at == std::string_view::npos) {
    return InvalidArgument(
        fmt::format("snapshot id '{}' is not valid: expected <resource>@<yyyymmddThhmmssZ>",
                    text.substr(0, 100)));
  }
  auto resource = text.substr(0, at);
  auto stamp = text.substr(at + 1);
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  if (!ParseCompactUtc(stamp).ok()) {
    return InvalidArgument(
        fmt::format("snapshot id '{}' is not valid: expected <resource>@<yyyymmddThhmmssZ>",
                    text.substr(0, 100)));
  }
  out->resource = std::string(resource);
  out->stamp = std::string(stamp);
  return Status::Ok();
}

}  // namespace zdap
