// The tokens file (strict, file:line), the Authenticator (bearer tokens, host token only from
// loopback, open mode, reload keeps the old tokens on error) and `zdapd token add|list|remove`
// through the built binary.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <vector>

#include "authenticator.h"
#include "core/file_util.h"
#include "support/test_env.h"
#include "tokens_file.h"

namespace zdap {
namespace {

using daemon::Authenticator;

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

daemon::ApiRequest Bearer(const std::string& token, bool loopback = true) {
  daemon::ApiRequest r;
  r.method = "GET";
  r.target = "/v1/clones";
  r.authorization = "Bearer " + token;
  r.from_loopback = loopback;
  return r;
}

}  // namespace

TEST_CASE("tokens file: entries parse; every error names file and line") {
  auto ok = daemon::ParseTokensFile("t.yaml", kHashA + ": {user: alice, role: user}\n" + kHashB +
                                                  ":\n  user: root\n  role: admin\n");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[1].role == daemon::TokenRole::kAdmin);
  CHECK(daemon::HexOf((*ok)[0].digest) == kHashA);
  CHECK(daemon::ParseTokensFile("t.yaml", "").ok());  // empty: nobody yet

  struct Case {
    std::string text, expect;
  } cases[] = {
      {"# c\n" + std::string(63, 'a') + ": {user: a, role: user}\n", "t.yaml:2: "},
      {std::string(64, 'A') + ": {user: a, role: user}\n", "not a sha256"},
      {std::string(63, 'a') + "g: {user: a, role: user}\n", "not a sha256"},
      {kHashA + ": {user: a, role: root}\n", "not a role: admin, user or replicator"},
      {kHashA + ": {user: a, role: user, extra: 1}\n", "extra"},
      {kHashA + ": {role: user}\n", "user"},
      {kHashA + ": {user: '../x', role: user}\n", "not a valid user name"},
      {kHashA + ": {user: zdapd, role: admin}\n", "reserved"},
      {kHashA + ": {user: a, role: user}\n" + kHashB + ": {user: a, role: admin}\n",
       "t.yaml:2: user 'a' is listed twice"},
      {kHashA + ": {user: a, role: user}\n" + kHashA + ": {user: b, role: user}\n", "twice"},
      {"- a\n- b\n", "must map"},
      {kHashA + ": [1]\n", "t.yaml:1"},
      {"{{{\n", "t.yaml:"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = daemon::ParseTokensFile("t.yaml", c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(c.expect) != std::string::npos);
    CHECK(r.status().message().find("t.yaml") != std::string::npos);
  }
}

TEST_CASE("authenticator: bearer tokens, roles, the host token only from loopback") {
  std::vector<daemon::TokenEntry> entries = {
      {daemon::DigestOf("tok-alice"), "alice", daemon::TokenRole::kUser},
      {daemon::DigestOf("tok-root"), "root", daemon::TokenRole::kAdmin},
      {daemon::DigestOf("tok-b"), "db2", daemon::TokenRole::kReplicator}};
  auto auth = Authenticator::ForEntries(entries);
  REQUIRE_FALSE(auth->open_mode());
  Authenticator::Failure f;

  auto alice = auth->Authenticate(Bearer("tok-alice"), &f);
  REQUIRE(alice.ok());
  CHECK(alice->user == "alice");
  CHECK_FALSE(alice->admin);
  auto root = auth->Authenticate(Bearer("tok-root", false), &f);
  REQUIRE(root.ok());
  CHECK(root->admin);
  auto follower = auth->Authenticate(Bearer("tok-b"), &f);
  REQUIRE(follower.ok());
  CHECK(follower->replicator);
  CHECK_FALSE(follower->admin);

  // X-Zdap-User is ignored when tokens are in use.
  daemon::ApiRequest impersonate = Bearer("tok-alice");
  impersonate.user_header = "root";
  CHECK(auth->Authenticate(impersonate, &f)->user == "alice");

  daemon::ApiRequest none;
  none.user_header = "root";
  auto r = auth->Authenticate(none, &f);
  CHECK(r.status().code() == Code::kUnauthenticated);
  CHECK(f == Authenticator::Failure::kMissing);
  for (std::string header :
       std::vector<std::string>{"Basic dG9rOng=", "Bearer", "Bearer ", "bearer a b", "tok-alice",
                                "Bearer " + std::string(5000, 'x'), "Bearer \x01"}) {
    daemon::ApiRequest bad;
    bad.authorization = header;
    r = auth->Authenticate(bad, &f);
    CHECK(r.status().code() == Code::kUnauthenticated);
    CHECK(f == Authenticator::Failure::kMalformed);
  }
  r = auth->Authenticate(Bearer("tok-alicE"), &f);
  CHECK(r.status().code() == Code::kUnauthenticated);
  CHECK(f == Authenticator::Failure::kUnknown);
  // The scheme is case-insensitive.
  daemon::ApiRequest lower;
  lower.authorization = "bearer tok-alice";
  CHECK(auth->Authenticate(lower, &f).ok());

  auth->SetHostToken("host-secret");
  auto host = auth->Authenticate(Bearer("host-secret"), &f);
  REQUIRE(host.ok());
  CHECK(host->user == daemon::kHostAdminUser);
  CHECK(host->admin);
  r = auth->Authenticate(Bearer("host-secret", /*loopback=*/false), &f);
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(f == Authenticator::Failure::kRemoteHostToken);
  auth->SetHostToken("");
  CHECK_FALSE(auth->Authenticate(Bearer("host-secret"), &f).ok());
}

TEST_CASE("authenticator: open mode honours X-Zdap-User, and only there") {
  auto auth = Authenticator::Create("");
  REQUIRE(auth.ok());
  REQUIRE((*auth)->open_mode());
  Authenticator::Failure f;
  daemon::ApiRequest r;
  r.user_header = "bob";
  CHECK((*auth)->Authenticate(r, &f)->user == "bob");
  CHECK_FALSE((*auth)->Authenticate(r, &f)->admin);
  r.user_header = "";
  CHECK((*auth)->Authenticate(r, &f)->user == "local");
  for (const char* bad : {"zdapd", "../x", "a b", "x\ny"}) {
    r.user_header = bad;
    CHECK((*auth)->Authenticate(r, &f).status().code() == Code::kInvalidArgument);
  }
  // A token nobody knows is refused even in open mode; the host token works.
  CHECK((*auth)->Authenticate(Bearer("nope"), &f).status().code() == Code::kUnauthenticated);
  (*auth)->SetHostToken("host-secret");
  CHECK((*auth)->Authenticate(Bearer("host-secret"), &f)->admin);
}

TEST_CASE("authenticator: Reload swaps the tokens; a broken file keeps the old ones") {
  test::TempDir dir("zdap-auth");
  std::string path = dir.path() + "/tokens.yaml";
  CHECK_FALSE(Authenticator::Create(path).ok());  // must exist
  auto token_a = daemon::AddToken(path, "alice", daemon::TokenRole::kUser, false);
  REQUIRE(token_a.ok());
  auto auth = Authenticator::Create(path);
  REQUIRE(auth.ok());
  Authenticator::Failure f;
  CHECK((*auth)->Authenticate(Bearer(*token_a), &f).ok());
  auto token_b = daemon::AddToken(path, "bob", daemon::TokenRole::kAdmin, false);
  REQUIRE(token_b.ok());
  CHECK_FALSE((*auth)->Authenticate(Bearer(*token_b), &f).ok());
  REQUIRE((*auth)->Reload().ok());
  CHECK((*auth)->Authenticate(Bearer(*token_b), &f)->admin);
  std::ofstream(path) << "garbage: [\n";
  Status st = (*auth)->Reload();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("previous tokens stay") != std::string::npos);
  CHECK((*auth)->Authenticate(Bearer(*token_b), &f).ok());
}

TEST_CASE("zdapd token add/list/remove through the built binary") {
  test::TempDir dir("zdap-tokens");
  std::string path = dir.path() + "/tokens.yaml";
  std::string zdapd = test::ProgramPath("apps/zdapd/zdapd") + " --tokens-file " + path + " token ";
  std::string out;
  auto run = [&](const std::string& command) {
    out.clear();
    return test::Shell(command, &out);
  };
  REQUIRE(run(zdapd + "add alice 2>/dev/null") == 0);
  std::string token = out.substr(0, out.find('\n'));
  CHECK(token.size() == 64);
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto text = ReadFile(path);
  REQUIRE(text.ok());
  CHECK(text->find(token) == std::string::npos);  // only the hash is stored
  CHECK(text->find(daemon::HexOf(daemon::DigestOf(token))) != std::string::npos);

  CHECK(run(zdapd + "add alice") != 0);
  CHECK(out.find("--replace") != std::string::npos);
  REQUIRE(run(zdapd + "add root --role admin 2>/dev/null") == 0);
  CHECK(run(zdapd + "add carol --role king") != 0);
  REQUIRE(run(zdapd + "add alice --replace 2>/dev/null") == 0);
  CHECK(out.substr(0, 64) != token);
  REQUIRE(run(zdapd + "list") == 0);
  CHECK(out == "alice\tuser\nroot\tadmin\n");
  REQUIRE(run(zdapd + "remove alice") == 0);
  CHECK(run(zdapd + "remove alice") != 0);
  CHECK(out.find("no token") != std::string::npos);
  REQUIRE(run(zdapd + "list") == 0);
  CHECK(out == "root\tadmin\n");
  CHECK(run(zdapd + "add ../x") != 0);
  // A broken file is not rewritten.
  std::ofstream(path) << "nope: 1\n";
  CHECK(run(zdapd + "add dave") != 0);
  CHECK(out.find(path + ":1") != std::string::npos);
  CHECK(*ReadFile(path) == "nope: 1\n");
}

TEST_CASE("zdapd refuses to start with a tokens file that is missing or broken") {
  test::TempDir dir("zdap-tokens-start");
  test::Shell("mkdir -p " + dir.path() + "/config/resources");
  std::string path = dir.path() + "/tokens.yaml";
  std::string zdapd = test::ProgramPath("apps/zdapd/zdapd") + " check-config --config-dir " +
                      dir.path() + "/config --tokens-file " + path;
  std::string out;
  CHECK(test::Shell(zdapd, &out) != 0);
  CHECK(out.find("does not exist") != std::string::npos);
  std::ofstream(path) << "# users\n" << kHashA << ": {user: alice, role: owner}\n";
  out.clear();
  CHECK(test::Shell(zdapd, &out) != 0);
  CHECK(out.find(path + ":2") != std::string::npos);
  std::ofstream(path) << kHashA << ": {user: alice, role: user}\n";
  out.clear();
  CHECK(test::Shell(zdapd, &out) == 0);
}

}  // namespace zdap
