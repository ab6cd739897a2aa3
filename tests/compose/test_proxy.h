// The proxy service both compose tests attach: service "db" of the base file at `path`,
// neutralised as `zdap attach` does, with a fixed image and target.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "compose/compose_file.h"

namespace zdap::test {

inline compose::ProxyService DbProxyFor(const std::string& path) {
  auto base = compose::ReadBaseService(path, "db");
  INFO(base.status().message());
  REQUIRE(base.ok());
  REQUIRE(base->port);
  compose::ProxyService service;
  service.name = "db";
  service.image = "zdap/proxyd:test";
  service.listen_port = *base->port;
  service.targets = {"192.0.2.2:20000"};
  service.build_target = base->build_target;
  compose::NeutraliseBaseKeys(*base, &service);
  return service;
}

}  // namespace zdap::test
