#include "e2e/tls_helpers.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "support/test_env.h"

namespace zdap::test {

void MakeCertificates(const std::string& dir, const std::string& name) {
  std::string p = dir + "/" + name;
  std::string out;
  // In braces so that every command's stderr reaches `out`, not the test's output.
  int rc = Shell("{ set -e; cd " + dir + "; openssl req -x509 -newkey rsa:2048 -nodes -keyout " +
                     p + "-ca.key -out " + p + "-ca.pem -days 2 -subj /CN=zdap-test-" + name +
                     "-ca; openssl req -newkey rsa:2048 -nodes -keyout " + p + ".key -out " + p +
                     ".csr -subj /CN=localhost; printf "
                     "'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > " +
                     p + ".ext; openssl x509 -req -in " + p + ".csr -CA " + p + "-ca.pem -CAkey " +
                     p + "-ca.key -CAcreateserial -out " + p + ".pem -days 2 -extfile " + p +
                     ".ext; chmod 600 " + p + ".key; }",
                 &out);
  INFO(out);
  REQUIRE(rc == 0);
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

int Curl(const std::string& options, const std::string& url, int* code, std::string* body) {
  std::string out;
  int rc = Shell("curl -s -m 20 " + options + " -w '\\n%{http_code}' " + url, &out);
  auto nl = out.rfind('\n');
  *code = nl == std::string::npos ? 0 : std::atoi(out.c_str() + nl + 1);
  *body = nl == std::string::npos ? out : out.substr(0, nl);
  return rc;
}

}  // namespace zdap::test
