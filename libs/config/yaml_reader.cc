#include "config/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/quote.h"
#include "core/time.h"

namespace zdap::config {
namespace {

int LineOf(const YAML::Node& node) {
  auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string Shorten(const std::string& s) {
  if (s.size() <= 80) return s;
  return s.substr(0, 77) + "...";
}

}  // namespace

Result<YAML::Node> ParseYaml(const std::string& file, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(
        // yaml-cpp's messages may quote the offending bytes raw: keep the error one line.
        fmt::format("{}:{}: not valid YAML: {}", file, e.mark.line + 1, Printable(e.msg)));
  }
}

MapReader::MapReader(std::string file, YAML::Node node, std::string path)
    : file_(std::move(file)), node_(std::move(node)), path_(std::move(path)) {}

std::string MapReader::KeyPath(const std::string& key) const {
  if (path_.empty()) return key;
  if (key.empty()) return path_;
  return path_ + "." + key;
}

std::string MapReader::Where(const std::string& key) const {
  int line = LineOf(node_);
  if (!key.empty() && node_.IsMap()) {
    // Point at the key itself rather than at the start of the map.
    for (const auto& kv : node_) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        line = LineOf(kv.first);
        break;
      }
    }
  }
  std::string where = KeyPath(Shorten(key));
  if (where.empty()) return fmt::format("{}:{}", file_, line);
  return fmt::format("{}:{}: {}", file_, line, Printable(where));
}

Status MapReader::ErrorAt(const std::string& key, const std::string& message) const {
  return InvalidArgument(fmt::format("{}: {}", Where(key), message));
}

Status MapReader::CheckIsMap() const {
  if (!node_.IsDefined() || node_.IsNull()) return Status::Ok();
  if (!node_.IsMap()) return ErrorAt("", "expected a mapping of keys to values");
  return Status::Ok();
}

bool MapReader::Has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

Status MapReader::GetString(const std::string& key, std::string* out, bool required) {
  if (!Has(key)) {
    if (required) return ErrorAt("", fmt::format("key '{}' is required", KeyPath(key)));
    return Status::Ok();
  }
  YAML::Node v = node_[key];
  if (!v.IsScalar()) return ErrorAt(key, "expected a string");
  *out = v.Scalar();
  if (out->size() > 4096) return ErrorAt(key, "value is longer than 4096 characters");
  return Status::Ok();
}

Status MapReader::GetInt(const std::string& key, int64_t* out, int64_t min, int64_t max,
                         bool required) {
  if (!Has(key)) {
    if (required) return ErrorAt("", fmt::format("key '{}' is required", KeyPath(key)));
    return Status::Ok();
  }
  YAML::Node v = node_[key];
  const std::string& s = v.IsScalar() ? v.Scalar() : std::string();
  bool digits = !s.empty() && s.size() <= 18 &&
                std::all_of(s.begin() + (s[0] == '-' ? 1 : 0), s.end(),
                            [](char c) { return c >= '0' && c <= '9'; }) &&
                s != "-";
  if (!v.IsScalar() || !digits) return ErrorAt(key, "expected a whole number");
  int64_t n = std::stoll(s);
  if (n < min || n > max) {
    return ErrorAt(key, fmt::format("{} is out of range ({} to {})", n, min, max));
  }
  *out = n;
  return Status::Ok();
}

Status MapReader::GetBool(const std::string& key, bool* out) {
  if (!Has(key)) return Status::Ok();
  YAML::Node v = node_[key];
  if (!v.IsScalar()) return ErrorAt(key, "expected true or false");
  const std::string& s = v.Scalar();
  if (s == "true")
    *out = true;
  else if (s == "false")
    *out = false;
  else
    return ErrorAt(key, fmt::format("'{}' is not true or false", Shorten(s)));
  return Status::Ok();
}

Status MapReader::GetDuration(const std::string& key, std::optional<std::chrono::seconds>* out) {
  if (!Has(key)) return Status::Ok();
  YAML::Node v = node_[key];
  if (!v.IsScalar()) return ErrorAt(key, "expected a duration like 30m, 8h or 7d");
  auto d = ParseDuration(v.Scalar());
  if (!d.ok()) return ErrorAt(key, d.status().message());
  *out = *d;
  return Status::Ok();
}

Status MapReader::GetStringList(const std::string& key, std::vector<std::string>* out) {
  if (!Has(key)) return Status::Ok();
  YAML::Node v = node_[key];
  if (v.IsScalar()) {
    out->push_back(v.Scalar());
    return Status::Ok();
  }
  if (!v.IsSequence()) return ErrorAt(key, "expected a list of strings");
  if (v.size() > 1000) return ErrorAt(key, "more than 1000 entries");
  for (const auto& item : v) {
    if (!item.IsScalar()) return ErrorAt(key, "expected a list of strings");
    out->push_back(item.Scalar());
  }
  return Status::Ok();
}

Status MapReader::GetScalarMap(const std::string& key, std::map<std::string, std::string>* out) {
  if (!Has(key)) return Status::Ok();
  YAML::Node v = node_[key];
  if (!v.IsMap()) return ErrorAt(key, "expected a mapping of names to values");
  for (const auto& kv : v) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      return ErrorAt(key, "expected a mapping of names to plain values");
    }
    (*out)[kv.first.Scalar()] = kv.second.Scalar();
  }
  return Status::Ok();
}

Result<MapReader> MapReader::GetMap(const std::string& key) {
  YAML::Node v = node_.IsMap() ? node_[key] : YAML::Node();
  MapReader child(file_, v, KeyPath(key));
  if (v.IsDefined() && !v.IsNull() && !v.IsMap()) return ErrorAt(key, "expected a mapping");
  return child;
}

Result<std::vector<MapReader>> MapReader::GetMapList(const std::string& key) {
  std::vector<MapReader> out;
  if (!Has(key)) return out;
  YAML::Node v = node_[key];
  if (!v.IsSequence()) return ErrorAt(key, "expected a list of mappings");
  if (v.size() > 1000) return ErrorAt(key, "more than 1000 entries");
  for (size_t i = 0; i < v.size(); ++i) {
    MapReader item(file_, v[i], fmt::format("{}[{}]", KeyPath(key), i));
    if (!v[i].IsMap()) return item.ErrorAt("", "expected a mapping of keys to values");
    out.push_back(std::move(item));
  }
  return out;
}

Status MapReader::CheckNoUnknownKeys(std::initializer_list<const char*> allowed) const {
  if (!node_.IsMap()) return Status::Ok();
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      return InvalidArgument(fmt::format("{}:{}: {}: keys must be plain strings", file_,
                                         LineOf(kv.first), path_.empty() ? "(top level)" : path_));
    }
    const std::string& k = kv.first.Scalar();
    bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
    if (!known) {
      std::string list;
      for (const char* a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return InvalidArgument(fmt::format("{}:{}: unknown key '{}' (expected one of: {})", file_,
                                         LineOf(kv.first), KeyPath(Shorten(k)), list));
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> MapReader::Keys() const {
  std::vector<std::string> keys;
  if (!node_.IsMap()) return keys;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      return InvalidArgument(fmt::format("{}:{}: {}: keys must be plain strings", file_,
                                         LineOf(kv.first), path_.empty() ? "(top level)" : path_));
    }
    keys.push_back(kv.first.Scalar());
  }
  return keys;
}

bool MapReader::IsList(const std::string& key) const {
  return node_.IsMap() && node_[key].IsSequence();
}

bool MapReader::IsMap(const std::string& key) const {
  return node_.IsMap() && node_[key].IsMap();
}

}  // namespace zdap::config
