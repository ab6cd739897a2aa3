#include "compose/override_editor.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

namespace zdap::compose {
namespace {

ProxyService Db(const std::string& name = "db") {
  ProxyService s;
  s.name = name;
  s.image = "zdap/proxyd:0.1.0";
  s.listen_port = 5432;
  s.targets = {"192.0.2.5:6001"};
  s.note = "clone chinook-7f3a of chinook@20261122T030405Z on http://192.0.2.5:43210";
  return s;
}

// Attaches, checks the result parses with the proxy service, detaches, and requires the
// exact original back. Returns the attached text.
std::string RoundTrip(const std::string& original, bool exists = true,
                      const ProxyService& service = Db()) {
  auto attached = AttachService(original, exists, service, "");
  INFO(attached.status().ToString());
  REQUIRE(attached.ok());
  YAML::Node root = YAML::Load(*attached);
  REQUIRE(root["services"][service.name]["image"].as<std::string>() == service.image);
  REQUIRE(root["services"][service.name]["command"][1].as<std::string>() == ":5432");
  auto detached = DetachService(*attached, service.name);
  INFO(detached.status().ToString());
  REQUIRE(detached.ok());
  REQUIRE(detached->text == original);
  REQUIRE(detached->delete_file == !exists);
  return *attached;
}

const char kRich[] =
    "# Project override: local tweaks\n"
    "version: \"3.8\"\n"
    "\n"
    "x-common: &common   # an anchor\n"
    "  restart: unless-stopped\n"
    "  environment:\n"
    "    TZ: UTC\n"
    "\n"
    "services:\n"
    "  # the app, with the common settings\n"
    "  app:\n"
    "    <<: *common\n"
    "    ports:\n"
    "      - \"8080:8080\"   # keep me\n"
    "    command: |\n"
    "      run --flag\n"
    "      # not a comment\n"
    "  worker:\n"
    "    <<: *common\n"
    "    image: worker:latest\n"
    "\n"
    "volumes:\n"
    "  data: {}\n"
    "networks:\n"
    "  front:\n"
    "    driver: bridge\n"
    "# trailing comment\n";

}  // namespace

TEST_CASE("attach then detach is byte-identical on a rich override file", "[override]") {
  std::string attached = RoundTrip(kRich);
  // Everything else is untouched: the attached text is the original plus one block.
  REQUIRE(attached.find("  # >>> zdap service db\n") != std::string::npos);
  REQUIRE(attached.find("  # <<< zdap service db\n") != std::string::npos);
  YAML::Node root = YAML::Load(attached);
  REQUIRE(root["services"]["app"]["ports"][0].as<std::string>() == "8080:8080");
  REQUIRE(root["services"]["worker"]["image"].as<std::string>() == "worker:latest");
  REQUIRE(root["volumes"]["data"].IsMap());
  REQUIRE(root["services"]["db"]["healthcheck"]["test"][2].as<std::string>() == "healthcheck");
  REQUIRE(root["services"]["db"]["entrypoint"][0].as<std::string>() == "/zdap-proxyd");
}

TEST_CASE("two zdap services detach in any order", "[override]") {
  auto a = AttachService(kRich, true, Db("db"), "");
  REQUIRE(a.ok());
  auto b = AttachService(*a, true, Db("cache"), "");
  REQUIRE(b.ok());
  REQUIRE(ZdapServices(*b) == std::vector<std::string>{"cache", "db"});
  auto c = DetachService(*b, "db");
  REQUIRE(c.ok());
  auto d = DetachService(c->text, "cache");
  REQUIRE(d.ok());
  REQUIRE(d->text == kRich);
}

TEST_CASE("line ends and final newlines survive", "[override]") {
  SECTION("CRLF") {
    std::string crlf = "services:\r\n  app:\r\n    image: a\r\nvolumes:\r\n  v: {}\r\n";
    std::string attached = RoundTrip(crlf);
    // Every line zdap wrote ends in CRLF too.
    for (size_t i = 0; i < attached.size(); ++i) {
      if (attached[i] == '\n') REQUIRE((i > 0 && attached[i - 1] == '\r'));
    }
  }
  SECTION("no final newline, services last") {
    RoundTrip("volumes:\n  v: {}\nservices:\n  app:\n    image: a");
  }
  SECTION("no final newline, services empty and last") {
    RoundTrip("volumes:\n  v: {}\nservices:");
  }
  SECTION("no final newline, no services key") {
    RoundTrip("volumes:\n  v: {}");
  }
  SECTION("no final newline, only a comment") {
    RoundTrip("# nothing here yet");
  }
  SECTION("CRLF without final newline and no services") {
    RoundTrip("x-a: 1\r\nx-b: 2");
  }
}

TEST_CASE("files without services, empty or missing", "[override]") {
  SECTION("no services key") {
    std::string attached = RoundTrip("version: \"3.8\"\nvolumes:\n  v: {}\n");
    REQUIRE(attached.find("# >>> zdap services\nservices:\n") != std::string::npos);
  }
  SECTION("services: with nothing under it") {
    RoundTrip("services:\nvolumes:\n  v: {}\n");
  }
  SECTION("services: {} is refused as flow style") {
    REQUIRE_FALSE(AttachService("services: {}\n", true, Db(), "").ok());
  }
  SECTION("existing empty file stays (empty) after detach") {
    RoundTrip("", true);
  }
  SECTION("missing file is created and removed again") {
    auto created = AttachService("", false, Db(), "3.8");
    REQUIRE(created.ok());
    REQUIRE(created->starts_with("# >>> zdap file\nversion: \"3.8\"\nservices:\n"));
    auto back = DetachService(*created, "db");
    REQUIRE(back.ok());
    REQUIRE(back->delete_file);
    RoundTrip("", false);
  }
  SECTION("a created file the user added to is kept") {
    auto created = AttachService("", false, Db(), "");
    REQUIRE(created.ok());
    std::string edited = *created;
    edited.insert(edited.find("  # >>> zdap"), "  mine:\n    image: x\n");
    auto back = DetachService(edited, "db");
    REQUIRE(back.ok());
    REQUIRE_FALSE(back->delete_file);
    REQUIRE(YAML::Load(back->text)["services"]["mine"]["image"].as<std::string>() == "x");
  }
}

TEST_CASE("indentation of the file is followed", "[override]") {
  std::string four = "services:\n    app:\n        image: a\n";
  std::string attached = RoundTrip(four);
  REQUIRE(attached.find("\n    db:\n        image: ") != std::string::npos);
  std::string top_anchor = "services: &svcs\n  app:\n    image: a\n";
  RoundTrip(top_anchor);
  std::string quoted = "\"services\":\n  app:\n    image: a\n";
  RoundTrip(quoted);
}

TEST_CASE("conflicts and refusals give clear errors", "[override]") {
  SECTION("a non-zdap service of that name") {
    auto r = AttachService("services:\n  db:\n    image: postgres\n", true, Db(), "");
    REQUIRE(r.status().code() == Code::kConflict);
    REQUIRE(r.status().message().find("already defines service 'db'") != std::string::npos);
  }
  SECTION("attached twice") {
    auto a = AttachService(kRich, true, Db(), "");
    REQUIRE(a.ok());
    auto b = AttachService(*a, true, Db(), "");
    REQUIRE(b.status().code() == Code::kConflict);
    REQUIRE(b.status().message().find("zdap detach db") != std::string::npos);
  }
  SECTION("flow-style services") {
    auto r = AttachService("services: {app: {image: a}}\n", true, Db(), "");
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().message().find("flow style") != std::string::npos);
  }
  SECTION("flow-style file") {
    auto r = AttachService("{services: {app: {image: a}}}\n", true, Db(), "");
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().message().find("flow") != std::string::npos);
  }
  SECTION("services is not a mapping") {
    REQUIRE_FALSE(AttachService("services: 3\n", true, Db(), "").ok());
    REQUIRE_FALSE(AttachService("services:\n  - a\n", true, Db(), "").ok());
  }
  SECTION("top level is not a mapping") {
    REQUIRE_FALSE(AttachService("- a\n- b\n", true, Db(), "").ok());
  }
  SECTION("bad service names") {
    REQUIRE_FALSE(AttachService(kRich, true, Db("a b"), "").ok());
    REQUIRE_FALSE(AttachService(kRich, true, Db("-x"), "").ok());
    REQUIRE_FALSE(AttachService(kRich, true, Db("x\ny"), "").ok());
  }
  SECTION("detach of what is not there") {
    REQUIRE(DetachService(kRich, "db").status().code() == Code::kNotFound);
  }
  SECTION("detach with a damaged marker") {
    auto a = AttachService(kRich, true, Db(), "");
    REQUIRE(a.ok());
    std::string damaged = *a;
    damaged.replace(damaged.find("# <<< zdap service db"), 21, "# end");
    REQUIRE(DetachService(damaged, "db").status().code() == Code::kNotFound);
  }
}

TEST_CASE("malformed, hostile and oversized files are refused", "[override]") {
  const std::vector<std::string> bad = {
      "services:\n  app: [unclosed\n",
      "services:\n  app:\n    image: a\n   bad: indent\n",
      "services:\n\tapp: tabs\n",
      std::string(100000, '['),
      "services:\n  app:\n    image: a\n---\nservices: {}\n",
      "key: \"unterminated\n",
      std::string("services:\n  app:\n    image: \0\n", 30),
      "services: *nope\n",
  };
  for (const auto& text : bad) {
    auto r = AttachService(text, true, Db(), "");
    INFO(text.substr(0, 60));
    REQUIRE_FALSE(r.ok());
    REQUIRE_FALSE(r.status().message().empty());
  }
  std::string big =
      "services:\n  app:\n    image: a\n" + std::string(kMaxOverrideBytes, '#') + "\n";
  auto r = AttachService(big, true, Db(), "");
  REQUIRE(r.status().code() == Code::kTooLarge);
  // Billion laughs: aliases are not expanded, so this is just an ordinary (small) file.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) laughs += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    laughs += "]\n";
  }
  laughs += "services:\n  app:\n    image: a\n";
  RoundTrip(laughs);
}

}  // namespace zdap::compose
