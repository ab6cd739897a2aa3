#include "events/webhook_signature.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace zdap::events {

std::string WebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body) {
  std::string message = fmt::format("{}.", timestamp);
  message.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  std::string out = "sha256=";
  out.reserve(7 + 2 * mac_len);
  for (unsigned int i = 0; i < mac_len; ++i)
    fmt::format_to(std::back_inserter(out), "{:02x}", mac[i]);
  return out;
}

bool VerifyWebhookSignature(std::string_view secret, int64_t timestamp, std::string_view body,
                            std::string_view header, int64_t now, int64_t tolerance_seconds) {
  std::string expected = WebhookSignature(secret, timestamp, body);
  bool same = header.size() == expected.size() &&
              CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
  int64_t age = now - timestamp;
  return same && age <= tolerance_seconds && age >= -tolerance_seconds;
}

}  // namespace zdap::events
