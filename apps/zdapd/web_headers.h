// The dashboard's files and the headers every answer carries (issue 24).
//
// Every answer: X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and a
// Content-Security-Policy with frame-ancestors 'none' (no page may frame zdapd). The
// dashboard's HTML gets the strict policy: everything from this origin only, no inline
// script or style, no plugins, forms and connections to this origin only. API answers get
// `default-src 'none'` (JSON is never a document) and Cache-Control: no-store; assets are
// revalidated by their ETag (If-None-Match -> 304).
#pragma once

#include <optional>
#include <string_view>

#include "api_message.h"

namespace zdap::daemon {

inline constexpr std::string_view kDashboardCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
inline constexpr std::string_view kApiCsp = "default-src 'none'; frame-ancestors 'none'";

// GET/HEAD of "/", "/ui", "/ui/" and the dashboard's files; nullopt for anything else.
std::optional<ApiResponse> ServeUiAsset(const ApiRequest& request);

// Adds the headers above to `response` (unless it set its own policy or caching).
void AddSecurityHeaders(ApiResponse* response, bool tls);

}  // namespace zdap::daemon
