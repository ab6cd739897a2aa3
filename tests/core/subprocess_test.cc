#include <catch2/catch.hpp>

#include <signal.h>

#include "core/subprocess.h"

using namespace zdap;

TEST_CASE("Run captures output and the exit status") {
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto r = Run(o);
  REQUIRE(r.ok());
  CHECK_FALSE(r->ok());
  CHECK(DescribeWaitStatus(r->wait_status) == "exited with status 3");
  CHECK(r->output.find("out") != std::string::npos);
  CHECK(r->output.find("err") != std::string::npos);
}

TEST_CASE("Run passes env without argv and does not inherit the parent's by default") {
  ::setenv("ZDAP_TEST_PARENT_ONLY", "1", 1);
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo \"[$SECRET][$ZDAP_TEST_PARENT_ONLY]\""};
  o.env = {"SECRET=s3cret"};
  auto r = Run(o);
  REQUIRE(r.ok());
  CHECK(r->output == "[s3cret][]\n");
}

TEST_CASE("a missing program is a clear error, not a crash") {
  SpawnOptions o;
  o.argv = {"zdap-no-such-program"};
  auto r = Run(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("zdap-no-such-program") != std::string::npos);
}

TEST_CASE("Run kills the whole process group on timeout") {
  SpawnOptions o;
  o.argv = {"sh", "-c", "sleep 30 & sleep 30"};
  auto r = Run(o, std::chrono::milliseconds(200));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
}
