#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "compose/compose_file.h"
#include "compose/host_address.h"
#include "compose/override_editor.h"
#include "compose/proxy_service.h"
#include "core/file_util.h"
#include "support/test_env.h"
#include "test_proxy.h"

using namespace zdap;
using namespace zdap::compose;

namespace {

PortEntry Port(const std::string& entry) {
  auto p = ParsePortEntry(entry);
  INFO(entry << ": " << p.status().message());
  REQUIRE(p.ok());
  return *p;
}

std::string PortError(const std::string& entry) {
  auto p = ParsePortEntry(entry);
  INFO(entry);
  REQUIRE_FALSE(p.ok());
  REQUIRE(p.status().code() == Code::kInvalidArgument);
  return p.status().message();
}

// A compose project in a temp dir; Config() runs docker-compose config on base + override.
struct Project {
  test::TempDir dir{"zdap-compose"};
  void Write(const std::string& name, const std::string& text) {
    REQUIRE(WriteFileAtomic(dir.path() + "/" + name, text).ok());
  }
  std::string Config() {
    std::string out;
    int rc = test::Shell("cd '" + dir.path() + "' && docker-compose config 2>&1", &out);
    INFO(out);
    REQUIRE(rc == 0);
    return out;
  }
};

}  // namespace

TEST_CASE("every compose port syntax", "[compose]") {
  PortEntry p = Port("5432");
  CHECK((p.target == 5432 && p.published == 0 && p.host_ip.empty() && p.protocol == "tcp"));
  p = Port("5433:5432");
  CHECK((p.target == 5432 && p.published == 5433 && p.host_ip.empty()));
  p = Port("127.0.0.1:5433:5432");
  CHECK((p.target == 5432 && p.published == 5433 && p.host_ip == "127.0.0.1"));
  CHECK(p.yaml == "\"127.0.0.1:5433:5432\"");
  p = Port("5432/tcp");
  CHECK((p.target == 5432 && p.protocol == "tcp"));
  p = Port("127.0.0.1::5432/udp");
  CHECK((p.target == 5432 && p.published == 0 && p.protocol == "udp"));
  p = Port("[::1]:5433:5432");
  CHECK((p.target == 5432 && p.published == 5433 && p.host_ip == "::1"));

  // Interpolated published ports and host addresses are kept verbatim for compose to fill in.
  p = Port("127.0.0.1:${CHINOOK_PORT:-5432}:5432");
  CHECK((p.target == 5432 && p.yaml == "\"127.0.0.1:${CHINOOK_PORT:-5432}:5432\""));
  CHECK(Port("$HOST_IP:$PORT:3306/tcp").target == 3306);
  CHECK(PortError("5433:${DB_PORT}").find("not a variable") != std::string::npos);
  CHECK(PortError("${DB_PORT:-5432}").find("not a variable") != std::string::npos);
  PortError("${X:5432");

  CHECK(PortError("6000-6001:6000-6001").find("ranges are not supported") != std::string::npos);
  CHECK(PortError("5432-5433").find("ranges") != std::string::npos);
  CHECK(PortError("127.0.0.1:6000-6001:5432").find("ranges") != std::string::npos);
  for (const char* bad :
       {"", "x", "0", "70000", "5432/", "5432/icmp", "1:2:3:4", "a:5432", ":", "5432:", "[::1]5432",
        "[::1:5433:5432", "[::1]:1:2:3", "::5432", "5432/tcp/udp", "99999999999999999999"}) {
    PortError(bad);
  }
  PortError(std::string(5000, '1'));
}

TEST_CASE("the long port form and keys an override cannot take away", "[compose]") {
  Project project;
  std::string path = project.dir.path() + "/docker-compose.yml";
  project.Write("docker-compose.yml",
                "services:\n"
                "  long:\n"
                "    image: postgres\n"
                "    ports:\n"
                "      - {target: 5432, published: 5433, host_ip: 127.0.0.1, protocol: tcp}\n"
                "      - target: 5432\n"
                "        protocol: udp\n");
  auto base = ReadBaseService(path, "long");
  REQUIRE(base.ok());
  REQUIRE(base->ports.size() == 2);
  CHECK(base->port == 5432);
  CHECK(base->ports[0].published == 5433);
  CHECK(base->ports[0].host_ip == "127.0.0.1");
  CHECK(base->ports[0].yaml ==
        "{target: 5432, published: 5433, host_ip: \"127.0.0.1\", protocol: \"tcp\"}");
  CHECK(base->ports[1].protocol == "udp");

  for (const char* ports :
       {"[{published: 5433}]", "[{target: 5432, published: 6000-6001}]", "[{target: x}]",
        "[{target: 5432, color: red}]", "[{target: 5432, protocol: icmp}]", "[[5432]]",
        "[{target: [1]}]", "5432", "[\"6000-6001:6000-6001\"]", "[\"x:y\"]"}) {
    project.Write("docker-compose.yml",
                  std::string("services:\n  db:\n    image: postgres\n    ports: ") + ports + "\n");
    auto bad = ReadBaseService(path, "db");
    INFO(ports);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("service 'db'") != std::string::npos);
  }
  for (const char* key :
       {"env_file: [db.env]", "secrets: [pw]", "configs: [c]", "devices: [\"/dev/fuse:/dev/fuse\"]",
        "volumes_from: [other]", "extends: {service: other}"}) {
    project.Write("docker-compose.yml",
                  std::string("services:\n  db:\n    image: postgres\n    ") + key + "\n");
    auto refused = ReadBaseService(path, "db");
    INFO(key);
    REQUIRE_FALSE(refused.ok());
    std::string name = std::string(key).substr(0, std::string(key).find(':'));
    CHECK(refused.status().message().find("`" + name + "` cannot be taken away") !=
          std::string::npos);
    CHECK(refused.status().message().find('\n') == std::string::npos);
  }
  project.Write("docker-compose.yml", "services:\n  db:\n    volumes: [\"data:relative\"]\n");
  CHECK_FALSE(ReadBaseService(path, "db").ok());
}

TEST_CASE("docker-compose 1.29 merges nothing of the database into the proxy service",
          "[compose]") {
  REQUIRE(test::Shell("docker-compose version") == 0);  // scripts/test installs it
  for (const char* version : {"3.8", "2.4"}) {
    INFO("version " << version);
    Project project;
    project.Write("docker-compose.yml",
                  std::string("version: \"") + version +
                      "\"\n"
                      "services:\n"
                      "  app:\n"
                      "    image: alpine\n"
                      "    depends_on: [db]\n"
                      "    networks: [back]\n"
                      "  db:\n"
                      "    image: postgres:15\n"
                      "    build: {context: ./db, target: dev}\n"
                      "    user: postgres\n"
                      "    working_dir: /var/lib/postgresql\n"
                      "    command: [\"postgres\", \"-c\", \"fsync=off\"]\n"
                      "    entrypoint: /docker-entrypoint.sh\n"
                      "    environment:\n"
                      "      POSTGRES_PASSWORD: s3cret\n"
                      "      POSTGRES_DB: chinook\n"
                      "    labels: [\"traefik.enable=true\"]\n"
                      "    healthcheck: {test: [\"CMD\", \"pg_isready\"], interval: 1m}\n"
                      "    ports:\n"
                      "      - \"127.0.0.1:5433:5432\"\n"
                      "      - 5434:5432\n"
                      "      - \"5432/udp\"\n"
                      "      - {target: 9000, published: 9001, protocol: tcp}\n"
                      "    volumes:\n"
                      "      - pgdata:/var/lib/postgresql/data\n"
                      "      - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\n"
                      "      - /scratch\n"
                      "      - {type: bind, source: ., target: /src}\n"
                      "    networks: [back]\n"
                      "networks:\n"
                      "  back: {}\n"
                      "volumes:\n"
                      "  pgdata: {}\n");
    REQUIRE(test::Shell("mkdir -p '" + project.dir.path() + "/db' '" + project.dir.path() +
                        "/.zdap/build/db'") == 0);
    ProxyService service = test::DbProxyFor(project.dir.path() + "/docker-compose.yml");
    service.build_context = ".zdap/build/db";
    auto text = AttachService("", false, service, version);
    REQUIRE(text.ok());
    project.Write("docker-compose.override.yml", *text);

    YAML::Node merged = YAML::Load(project.Config());
    YAML::Node db = merged["services"]["db"];
    INFO(YAML::Dump(db));
    CHECK(db["image"].Scalar() == "zdap/proxyd:test");
    CHECK(db["user"].Scalar() == kProxyUser);
    CHECK(db["working_dir"].Scalar() == "/");
    REQUIRE(db["entrypoint"].size() == 1);
    CHECK(db["entrypoint"][0].Scalar() == kProxyBinary);
    CHECK(db["command"][0].Scalar() == "--listen");
    CHECK(db["command"][1].Scalar() == ":5432");
    CHECK(db["command"][3].Scalar() == "192.0.2.2:20000");
    CHECK(db["healthcheck"]["test"][1].Scalar() == kProxyBinary);
    for (const auto& kv : db["environment"]) CHECK(kv.second.Scalar().empty());
    CHECK(db["environment"].size() == 2);
    for (const auto& kv : db["labels"]) CHECK(kv.second.Scalar().empty());
    REQUIRE(db["volumes"].size() == 4);
    for (const auto& v : db["volumes"]) CHECK(v["type"].Scalar() == "tmpfs");
    // The base ports are there exactly once each, as the base had them.
    REQUIRE(db["ports"].size() == 4);
    std::set<std::string> published;
    for (const auto& p : db["ports"]) {
      published.insert(p.IsScalar() ? p.Scalar() : YAML::Dump(p));
    }
    CHECK(published.size() == 4);
    CHECK(published.count("127.0.0.1:5433:5432/tcp") == 1);
    CHECK(db["networks"]["back"]);
    // build points at zdap's Dockerfile, never at the database's context.
    CHECK(db["build"]["context"].Scalar().find(".zdap/build/db") != std::string::npos);
    CHECK(merged["services"]["app"]["image"].Scalar() == "alpine");
  }
}

namespace {

// A TCP listener on `address` (network byte order) and a free port; closed on destruction.
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  explicit Listener(in_addr_t address) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
};

}  // namespace

TEST_CASE("a clone on this machine is found on its own non-loopback address", "[compose]") {
  // Listening on every address (clone_bind 0.0.0.0): found on an address a container reaches.
  Listener any(htonl(INADDR_ANY));
  auto found = HostAddressServing(any.port);
  INFO("this machine needs a non-loopback IPv4 address: " << found.status().message());
  REQUIRE(found.ok());
  CHECK_FALSE(found->starts_with("127."));
  in_addr parsed{};
  CHECK(::inet_pton(AF_INET, found->c_str(), &parsed) == 1);
  // Loopback only (the default clone_bind): nothing a container could reach.
  Listener loopback(htonl(INADDR_LOOPBACK));
  auto none = HostAddressServing(loopback.port);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
}
