// The dashboard's files (apps/zdapd/ui: HTML, ES modules, CSS, an icon), compiled into zdapd
// by the build (ui/embed_ui.cmake writes ui_assets.cc), served from memory at /ui/.
#pragma once

#include <span>
#include <string_view>

namespace zdap::daemon {

struct UiAsset {
  std::string_view path;          // "/ui/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // "\"<32 hex digits of its sha256>\""
  std::string_view body;
};

std::span<const UiAsset> UiAssets();

}  // namespace zdap::daemon
