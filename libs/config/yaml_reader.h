// Strict reading of YAML mappings: zdap's one YAML reader, for zdapd's config and resource
// files and zdap-proxyd's --config file.
//
// Every error names the file, the 1-based line and the dotted key path, e.g.
//   resources/chinook.yaml:7: clone.ttl: '8x' is not a duration: ...
// Unknown keys are errors (a typo must not silently fall back to a default), and so are values
// of the wrong type (a list where a string belongs). Errors stay one printable line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace zdap::config {

// Parses `text` (the contents of `file`); syntax errors carry the line.
Result<YAML::Node> ParseYaml(const std::string& file, const std::string& text);

// A view of one mapping node that records which keys were consumed.
class MapReader {
 public:
  // `path` is the dotted prefix for messages ("" at the top level).
  MapReader(std::string file, YAML::Node node, std::string path = "");

  // InvalidArgument if the node is not a mapping (or is absent and `required`).
  Status CheckIsMap() const;

  bool Has(const std::string& key) const;
  Status GetString(const std::string& key, std::string* out, bool required = false);
  Status GetInt(const std::string& key, int64_t* out, int64_t min, int64_t max,
                bool required = false);
  Status GetBool(const std::string& key, bool* out);
  Status GetDuration(const std::string& key, std::optional<std::chrono::seconds>* out);
  Status GetStringList(const std::string& key, std::vector<std::string>* out);
  // A mapping of scalar values (e.g. engine settings); values kept as written.
  Status GetScalarMap(const std::string& key, std::map<std::string, std::string>* out);
  // A nested mapping; an absent key gives a reader over an empty (null) node.
  Result<MapReader> GetMap(const std::string& key);
  // A list of mappings ("listeners: [{...}, ...]"), each read as "key[i]"; at most 1000.
  Result<std::vector<MapReader>> GetMapList(const std::string& key);

  // InvalidArgument naming the first key that was never asked for.
  Status CheckNoUnknownKeys(std::initializer_list<const char*> allowed) const;

  // The keys in file order, for a reader whose keys are data (zdap-proxyd's keys are its
  // flags); an error for a key that is not a plain string. Empty for an absent or null node.
  Result<std::vector<std::string>> Keys() const;
  // The shape of the value at `key`, for settings that take a list or a single string.
  bool IsList(const std::string& key) const;
  bool IsMap(const std::string& key) const;

  // "file:line: path.key: message" for a key of this map (or the map itself if key is empty).
  Status ErrorAt(const std::string& key, const std::string& message) const;
  // "file:line: path.key": the start of ErrorAt's message, for a caller that words its own.
  std::string Where(const std::string& key) const;
  const std::string& file() const { return file_; }

 private:
  std::string KeyPath(const std::string& key) const;
  std::string file_;
  YAML::Node node_;
  std::string path_;
};

}  // namespace zdap::config
