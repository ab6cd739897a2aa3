// Output formats of the list verbs: aligned text tables for people, JSON and YAML for scripts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/human_bytes.h"  // HumanBytes, for the listings
#include "core/result.h"

namespace zdap::cli {

enum class OutputFormat { kTable, kJson, kYaml };
// "table", "json", "yaml".
Result<OutputFormat> ParseOutputFormat(std::string_view text);

// Columns separated by two spaces, padded to the widest cell; header in capitals as given.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// The same data as YAML (block style); `json` must be valid JSON.
Result<std::string> JsonToYaml(std::string_view json);

// Writes a listing to stdout in `format`: `table` as is, `json` on one line, or `json` as YAML.
Status PrintListing(OutputFormat format, std::string_view json, const std::string& table);

}  // namespace zdap::cli
