// Helpers for tests of zdapd over HTTPS: certificates made with the openssl command, curl as
// the client, and a bounded poll.
#pragma once

#include <chrono>
#include <string>
#include <thread>

namespace zdap::test {

// A CA (dir/NAME-ca.pem) and a server certificate it signs for 127.0.0.1 and localhost
// (dir/NAME.pem, key dir/NAME.key, 0600). Fails the test when openssl does.
void MakeCertificates(const std::string& dir, const std::string& name);

// Writes `text` to `path`; returns `path`.
std::string WriteFile(const std::string& path, const std::string& text);

// curl -s with `options` (e.g. "--cacert ca.pem -H ..."); returns curl's exit status, the HTTP
// code and body in *code / *body.
int Curl(const std::string& options, const std::string& url, int* code, std::string* body);

// Polls `ok` every 20 ms for up to `limit`; the last try is made at the deadline.
template <typename F>
bool Eventually(F ok, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ok();
}

}  // namespace zdap::test
