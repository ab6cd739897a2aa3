#include "core/human_bytes.h"

#include <catch2/catch.hpp>

using zdap::HumanBytes;
using zdap::ParseByteSize;

TEST_CASE("HumanBytes: binary units, one decimal") {
  CHECK(HumanBytes(0) == "0 B");
  CHECK(HumanBytes(1023) == "1023 B");
  CHECK(HumanBytes(1536) == "1.5 KiB");
  CHECK(HumanBytes(uint64_t{5} << 30) == "5.0 GiB");
}

TEST_CASE("ParseByteSize: whole numbers, decimal and binary units, nothing else") {
  CHECK(*ParseByteSize("0") == 0);
  CHECK(*ParseByteSize("4096") == 4096);
  CHECK(*ParseByteSize("100MB") == 100000000);
  CHECK(*ParseByteSize("100 mb") == 100000000);
  CHECK(*ParseByteSize("2kB") == 2000);
  CHECK(*ParseByteSize("512KiB") == 512 * 1024);
  CHECK(*ParseByteSize("3GiB") == (uint64_t{3} << 30));
  CHECK(*ParseByteSize("1TB") == 1000000000000ull);
  CHECK(*ParseByteSize("12B") == 12);
  for (const char* bad :
       {"", "MB", "1.5GB", "-1", "+5", "10 M B", "10MBps", "1e9", "10 ", " 10",
        "99999999999999999999", "9000000000000000000TB", "16777216TiB", "10\nMB", "0x10"}) {
    INFO(bad);
    auto r = ParseByteSize(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("is not a byte count") != std::string::npos);
  }
}
