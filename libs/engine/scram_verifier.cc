#include "engine/scram_verifier.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace zdap::engine {
namespace {

constexpr int kIterations = 4096;  // PostgreSQL's default scram_iterations

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

}  // namespace

Result<std::string> ScramSha256Verifier(const std::string& password) {
  for (unsigned char c : password) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidArgument("a clone password must be printable ASCII without spaces");
    }
  }
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) return IoError("no random bytes for a SCRAM salt");
  unsigned char salted[SHA256_DIGEST_LENGTH];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt,
                        kIterations, EVP_sha256(), sizeof salted, salted) != 1) {
    return IoError("PBKDF2 for a SCRAM verifier failed");
  }
  auto hmac = [&](const char* text, unsigned char* out) {
    unsigned int len = SHA256_DIGEST_LENGTH;
    return HMAC(EVP_sha256(), salted, sizeof salted, reinterpret_cast<const unsigned char*>(text),
                std::char_traits<char>::length(text), out, &len) != nullptr;
  };
  unsigned char client_key[SHA256_DIGEST_LENGTH];
  unsigned char server_key[SHA256_DIGEST_LENGTH];
  unsigned char stored_key[SHA256_DIGEST_LENGTH];
  if (!hmac("Client Key", client_key) || !hmac("Server Key", server_key)) {
    return IoError("HMAC for a SCRAM verifier failed");
  }
  SHA256(client_key, sizeof client_key, stored_key);
  return fmt::format("SCRAM-SHA-256${}:{}${}:{}", kIterations, Base64(salt, sizeof salt),
                     Base64(stored_key, sizeof stored_key), Base64(server_key, sizeof server_key));
}

}  // namespace zdap::engine
