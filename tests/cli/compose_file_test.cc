#include "compose/compose_file.h"

#include <catch2/catch.hpp>

#include "core/file_util.h"
#include "support/test_env.h"

namespace zdap::compose {

TEST_CASE("container port of a ports entry", "[compose]") {
  REQUIRE(ContainerPortOf("5432") == 5432);
  REQUIRE(ContainerPortOf("15432:5432") == 5432);
  REQUIRE(ContainerPortOf("127.0.0.1:15432:5432") == 5432);
  REQUIRE(ContainerPortOf("5432/tcp") == 5432);
  REQUIRE(ContainerPortOf("6000-6001:3306-3307") == 3306);
  REQUIRE(ContainerPortOf("[::1]:1:3306/udp") == 3306);
  REQUIRE_FALSE(ContainerPortOf("x"));
  REQUIRE_FALSE(ContainerPortOf("70000"));
  REQUIRE_FALSE(ContainerPortOf(""));
}

TEST_CASE("reading a base service", "[compose]") {
  test::TempDir dir;
  std::string path = dir.path() + "/docker-compose.yml";
  REQUIRE(WriteFileAtomic(path,
                          "version: '3.8'\n"
                          "services:\n"
                          "  db:\n"
                          "    build: {context: ./db, target: dev}\n"
                          "    ports: [\"15432:5432\"]\n"
                          "  my:\n"
                          "    image: mariadb\n"
                          "    expose: [3306]\n"
                          "  long:\n"
                          "    image: postgres\n"
                          "    ports: [{target: 5433, published: 1}]\n"
                          "  bare:\n"
                          "    image: postgres\n"
                          "    build: ./x\n")
              .ok());
  auto file = ReadComposeFile(path);
  REQUIRE(file.ok());
  REQUIRE(file->version == "3.8");
  auto db = ReadBaseService(path, "db");
  REQUIRE(db.ok());
  REQUIRE(db->defined);
  REQUIRE(db->port == 5432);
  REQUIRE(db->has_build);
  REQUIRE(db->build_target == "dev");
  REQUIRE(ReadBaseService(path, "my")->port == 3306);
  REQUIRE(ReadBaseService(path, "long")->port == 5433);
  auto bare = ReadBaseService(path, "bare");
  REQUIRE_FALSE(bare->port);
  REQUIRE(bare->has_build);
  REQUIRE(bare->build_target.empty());
  REQUIRE_FALSE(ReadBaseService(path, "nope")->defined);
  REQUIRE(ReadComposeFile(dir.path() + "/missing.yml").status().code() == Code::kNotFound);
  REQUIRE(WriteFileAtomic(path, "services: [\n").ok());
  REQUIRE_FALSE(ReadComposeFile(path).ok());
}

}  // namespace zdap::compose
