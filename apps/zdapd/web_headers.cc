#include "web_headers.h"

#include "ui_assets.h"

namespace zdap::daemon {
namespace {

bool HasHeader(const ApiResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

ApiResponse Redirect(int status, std::string_view to) {
  ApiResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "see /ui/\n";
  r.headers.emplace_back("Location", std::string(to));
  return r;
}

}  // namespace

std::optional<ApiResponse> ServeUiAsset(const ApiRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
  std::string_view path = req.target;
  path = path.substr(0, path.find('?'));
  if (path == "/" || path == "/ui") return Redirect(302, "/ui/");
  if (path == "/ui/") path = "/ui/index.html";
  for (const UiAsset& a : UiAssets()) {
    if (a.path != path) continue;
    ApiResponse r;
    r.content_type = std::string(a.content_type);
    r.headers.emplace_back("ETag", std::string(a.etag));
    r.headers.emplace_back("Cache-Control", "no-cache");  // revalidate: 304 while unchanged
    if (path.ends_with(".html"))
      r.headers.emplace_back("Content-Security-Policy", std::string(kDashboardCsp));
    if (req.if_none_match == a.etag) {
      r.status = 304;
      r.body.clear();
      return r;
    }
    r.body = std::string(a.body);
    return r;
  }
  return std::nullopt;
}

void AddSecurityHeaders(ApiResponse* r, bool tls) {
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("Referrer-Policy", "no-referrer");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  if (!HasHeader(*r, "Content-Security-Policy")) {
    r->headers.emplace_back("Content-Security-Policy", std::string(kApiCsp));
  }
  if (!HasHeader(*r, "Cache-Control")) r->headers.emplace_back("Cache-Control", "no-store");
  if (tls) r->headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
}

}  // namespace zdap::daemon
