// How zdapd signs a webhook's POST (issue 24), and how a receiver checks it:
//
//   X-Zdap-Timestamp: 1765053000                       (unix seconds when this attempt was sent)
//   X-Zdap-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//
// The timestamp is inside the HMAC, so a captured request cannot be replayed later with a
// fresh timestamp: a receiver refuses a valid signature whose timestamp is older than a few
// minutes, and drops duplicates by X-Zdap-Delivery (the event id; retries resend it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zdap::events {

inline constexpr std::string_view kSignatureHeader = "X-Zdap-Signature";
inline constexpr std::string_view kTimestampHeader = "X-Zdap-Timestamp";
inline constexpr std::string_view kEventHeader = "X-Zdap-Event";
inline constexpr std::string_view kDeliveryHeader = "X-Zdap-Delivery";

// "sha256=" + 64 lowercase hex digits.
std::string WebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body);
// True if `header` is the signature of (timestamp, body) under `secret` (constant time) and
// `timestamp` lies within `tolerance_seconds` of `now`.
bool VerifyWebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body,
                            std::string_view header, int64_t now, int64_t tolerance_seconds = 300);

}  // namespace zdap::events
