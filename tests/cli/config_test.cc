#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "core/file_util.h"
#include "support/test_env.h"
#include "zdap/output.h"
#include "zdap/project_file.h"
#include "zdap/user_config.h"

namespace zdap::cli {

TEST_CASE("user config round trip, mode 0600", "[config]") {
  test::TempDir dir;
  std::string path = dir.path() + "/sub/zdap/config.yaml";
  auto empty = LoadUserConfig(path);
  REQUIRE(empty.ok());
  REQUIRE(empty->origins.empty());
  UserConfig c;
  c.user = "alice";
  c.origins = {{"http://127.0.0.1:43210", "s3cr\"et: #x"}, {"https://db1:443", ""}};
  REQUIRE(SaveUserConfig(path, c).ok());
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  auto back = LoadUserConfig(path);
  REQUIRE(back.ok());
  REQUIRE(back->user == "alice");
  REQUIRE(back->origins.size() == 2);
  REQUIRE(back->origins[0].token == "s3cr\"et: #x");
  REQUIRE(back->origins[1].token.empty());
  REQUIRE(back->FindOrigin("https://db1:443") != nullptr);

  REQUIRE(WriteFileAtomic(path, "user: a\nbogus: 1\n").ok());
  auto bad = LoadUserConfig(path);
  REQUIRE_FALSE(bad.ok());
  REQUIRE(bad.status().message().find("bogus") != std::string::npos);
  REQUIRE(WriteFileAtomic(path, "origins: {url: x}\n").ok());
  REQUIRE_FALSE(LoadUserConfig(path).ok());
}

TEST_CASE("user config path from the environment", "[config]") {
  ::setenv("ZDAP_CONFIG", "/x/c.yaml", 1);
  REQUIRE(*UserConfigPath() == "/x/c.yaml");
  ::unsetenv("ZDAP_CONFIG");
  ::setenv("XDG_CONFIG_HOME", "/xdg", 1);
  REQUIRE(*UserConfigPath() == "/xdg/zdap/config.yaml");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/u", 1);
  REQUIRE(*UserConfigPath() == "/home/u/.config/zdap/config.yaml");
}

TEST_CASE("project file round trip", "[config]") {
  test::TempDir dir;
  REQUIRE(LoadProject(dir.path()).status().code() == Code::kNotFound);
  Project p;
  p.dir = dir.path();
  p.compose = "docker-compose.yml";
  p.override_file = "docker-compose.override.yml";
  p.services.push_back({"db",
                        "chinook",
                        "chinook-7f3a",
                        "http://127.0.0.1:43210",
                        "chinook@20261122T030405Z",
                        "127.0.0.1:6001",
                        5432,
                        {}});
  p.services.push_back({"db2",
                        "chinook",
                        "chinook-1",
                        "http://127.0.0.1:43210",
                        "",
                        "127.0.0.3:6002",
                        5432,
                        {{"chinook-2", "http://127.0.0.2:43211", "127.0.0.4:6102"}}});
  REQUIRE(SaveProject(p).ok());
  auto back = LoadProject(dir.path());
  REQUIRE(back.ok());
  REQUIRE(back->compose == "docker-compose.yml");
  REQUIRE(back->OverridePath() == dir.path() + "/docker-compose.override.yml");
  REQUIRE(back->services.size() == 2);
  const AttachedService* s = back->Find("db");
  REQUIRE(s != nullptr);
  REQUIRE(s->clone == "chinook-7f3a");
  REQUIRE(s->listen == 5432);
  REQUIRE(s->target == "127.0.0.1:6001");
  REQUIRE(s->replicas.empty());
  const AttachedService* r = back->Find("db2");
  REQUIRE(r != nullptr);
  REQUIRE(r->replicas.size() == 1);
  REQUIRE(r->replicas[0].clone == "chinook-2");
  REQUIRE(r->replicas[0].origin == "http://127.0.0.2:43211");
  REQUIRE(r->replicas[0].target == "127.0.0.4:6102");
  // A replica without its clone id is refused, not dropped: detach could not destroy it.
  REQUIRE(WriteFileAtomic(p.FilePath(),
                          "compose: a.yml\noverride: b.yml\nservices:\n  db:\n"
                          "    clone: x\n    replicas: [{origin: o}]\n")
              .ok());
  auto bad = LoadProject(dir.path());
  REQUIRE(bad.status().code() == Code::kInvalidArgument);
  REQUIRE(bad.status().message().find("replica without clone") != std::string::npos);
}

TEST_CASE("output formats", "[config]") {
  REQUIRE(*ParseOutputFormat("json") == OutputFormat::kJson);
  REQUIRE_FALSE(ParseOutputFormat("xml").ok());
  REQUIRE(RenderTable({"A", "BB"}, {{"xxx", "y"}}) == "A    BB\nxxx  y\n");
  auto y = JsonToYaml(R"({"a":[1,"two",null,true],"b":{"c":"d"}})");
  REQUIRE(y.ok());
  REQUIRE(y->find("c: d") != std::string::npos);
  auto q = JsonToYaml(R"({"version":"15","at":"2026-11-22T03:04:05Z","on":"on","none":[]})");
  REQUIRE(q.ok());
  REQUIRE(q->find("version: \"15\"") != std::string::npos);
  REQUIRE(q->find("at: \"2026-11-22T03:04:05Z\"") != std::string::npos);
  REQUIRE(q->find("on: \"on\"") != std::string::npos);
  REQUIRE(q->find("none: []") != std::string::npos);
}

}  // namespace zdap::cli
