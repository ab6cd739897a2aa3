#include "zdap/output.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <iostream>

namespace zdap::cli {
namespace json = boost::json;

Result<OutputFormat> ParseOutputFormat(std::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  return InvalidArgument(
      fmt::format("output format '{}' is not known; use table, json or yaml", text));
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < width.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      l += cell;
      if (c + 1 < width.size()) l += std::string(width[c] - cell.size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

namespace {

// Strings a YAML reader would take for something else (numbers, booleans, null, times).
bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.') return true;
  std::string lower(s);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}) {
    if (lower == word) return true;
  }
  return false;
}

void Emit(YAML::Emitter& em, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      if (v.as_object().empty()) em << YAML::Flow;
      em << YAML::BeginMap;
      for (const auto& kv : v.as_object()) {
        em << YAML::Key << std::string(kv.key()) << YAML::Value;
        Emit(em, kv.value());
      }
      em << YAML::EndMap;
      break;
    case json::kind::array:
      if (v.as_array().empty()) em << YAML::Flow;
      em << YAML::BeginSeq;
      for (const auto& e : v.as_array()) Emit(em, e);
      em << YAML::EndSeq;
      break;
    case json::kind::string:
      if (NeedsQuotes(v.as_string())) em << YAML::DoubleQuoted;
      em << std::string(v.as_string());
      break;
    case json::kind::null:
      em << YAML::Null;
      break;
    case json::kind::bool_:
      em << v.as_bool();
      break;
    default:
      em << json::serialize(v);
  }
}

}  // namespace

Result<std::string> JsonToYaml(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Internal(fmt::format("invalid JSON: {}", ec.message()));
  YAML::Emitter em;
  Emit(em, v);
  return std::string(em.c_str()) + "\n";
}

Status PrintListing(OutputFormat format, std::string_view json, const std::string& table) {
  if (format == OutputFormat::kTable) {
    std::cout << table;
  } else if (format == OutputFormat::kJson) {
    std::cout << json << "\n";
  } else {
    ZDAP_ASSIGN_OR_RETURN(std::string yaml, JsonToYaml(json));
    std::cout << yaml;
  }
  return Status::Ok();
}

}  // namespace zdap::cli
