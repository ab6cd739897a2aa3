// The crash journal on a real directory: durability, mode, and hostile entries.
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/file_util.h"
#include "origin/journal.h"
#include "support/test_env.h"

using namespace zdap;
using namespace zdap::origin;

TEST_CASE("an entry is on disk, 0600, from Begin to Commit, with its steps") {
  test::TempDir dir("zdap-journal");
  std::string jdir = dir.path() + "/journal";
  auto journal = Journal::Open(jdir);
  REQUIRE(journal.ok());
  struct stat st;
  REQUIRE(::stat(jdir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto e = (*journal)->Begin("create", "shop-1a2b", {{"clone", "shop-1a2b"}, {"port", "6001"}});
  REQUIRE(e.ok());
  REQUIRE(::stat((jdir + "/" + e->id).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE((*journal)->Step(&*e, "volume").ok());

  // A second Journal on the same dir is what Recover() sees after a kill -9.
  auto again = Journal::Open(jdir);
  REQUIRE(again.ok());
  auto pending = (*again)->Pending();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].op == "create");
  CHECK(pending[0].subject == "shop-1a2b");
  CHECK(pending[0].Get("port") == "6001");
  CHECK(pending[0].Get("volume").empty());
  CHECK(pending[0].Did("volume"));
  CHECK_FALSE(pending[0].Did("started"));

  REQUIRE((*journal)->Commit(*e).ok());
  CHECK((*again)->Pending().empty());
  CHECK((*journal)->Commit(*e).ok());  // idempotent
}

TEST_CASE("pending entries come oldest first") {
  test::TempDir dir("zdap-journal");
  auto journal = Journal::Open(dir.path());
  REQUIRE(journal.ok());
  std::vector<std::string> subjects;
  for (int i = 0; i < 20; ++i) {
    subjects.push_back("c" + std::to_string(i));
    REQUIRE((*journal)->Begin(i % 2 ? "destroy" : "create", subjects.back(), {}).ok());
  }
  auto pending = (*journal)->Pending();
  REQUIRE(pending.size() == subjects.size());
  for (size_t i = 0; i < subjects.size(); ++i) CHECK(pending[i].subject == subjects[i]);
}

TEST_CASE("Begin refuses what would not read back") {
  test::TempDir dir("zdap-journal");
  auto journal = Journal::Open(dir.path());
  REQUIRE(journal.ok());
  CHECK((*journal)->Begin("Create", "x", {}).status().code() == Code::kInvalidArgument);
  CHECK((*journal)->Begin("", "x", {}).status().code() == Code::kInvalidArgument);
  CHECK((*journal)->Begin("create", "a\nop destroy", {}).status().code() == Code::kInvalidArgument);
  CHECK((*journal)->Begin("create", "x", {{"bad kind", "v"}}).status().code() ==
        Code::kInvalidArgument);
  CHECK((*journal)->Begin("create", "x", {{"volume", std::string(2000, 'v')}}).status().code() ==
        Code::kInvalidArgument);
  auto e = (*journal)->Begin("create", "x", {});
  REQUIRE(e.ok());
  CHECK((*journal)->Step(&*e, "two words").code() == Code::kInvalidArgument);
  CHECK((*journal)->Pending().size() == 1);
}

TEST_CASE("Parse round-trips and rejects malformed, oversized and hostile text") {
  JournalEntry e;
  e.id = "1";
  e.op = "refresh";
  e.subject = "shop";
  e.creates = {{"volume", "shop@20260301T120000Z"}};
  e.steps = {"imported"};
  auto back = Journal::Parse("1", Journal::Serialize(e));
  REQUIRE(back.ok());
  CHECK(back->op == e.op);
  CHECK(back->subject == e.subject);
  CHECK(back->creates == e.creates);
  CHECK(back->steps == e.steps);

  const char* bad[] = {
      "",
      "zdap-journal 2\nop create\nsubject x\n",
      "op create\nsubject x\n",
      "zdap-journal 1\nsubject x\n",
      "zdap-journal 1\nop create\n",
      "zdap-journal 1\nop create\nsubject x",  // cut short
      "zdap-journal 1\nop create\nop destroy\nsubject x\n",
      "zdap-journal 1\nop create\nsubject x\nsubject y\n",
      "zdap-journal 1\nop create\nsubject x\nrm -rf /\n",
      "zdap-journal 1\nop CREATE\nsubject x\n",
      "zdap-journal 1\nop create\nsubject x\ncreate volume\n",
      "zdap-journal 1\nop create\nsubject x\ncreate v 1\ncreate v 2\n",
      "zdap-journal 1\nop create\nsubject x\nstep a b\n",
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK(Journal::Parse("1", text).status().code() == Code::kInvalidArgument);
  }
  std::string nul = "zdap-journal 1\nop create\nsubject x";
  nul += '\0';
  nul += "y\n";
  CHECK_FALSE(Journal::Parse("1", nul).ok());
  std::string huge = "zdap-journal 1\nop create\nsubject x\n";
  while (huge.size() < 70000) huge += "step s\n";
  CHECK_FALSE(Journal::Parse("1", huge).ok());
  std::string many = "zdap-journal 1\nop create\nsubject x\n";
  for (int i = 0; i < 65; ++i) many += "step s\n";
  CHECK_FALSE(Journal::Parse("1", many).ok());
  CHECK_FALSE(
      Journal::Parse("1", "zdap-journal 1\nop create\nsubject " + std::string(2000, 'x') + "\n")
          .ok());
}

TEST_CASE("an unreadable entry is moved aside, the others still recover") {
  test::TempDir dir("zdap-journal");
  auto journal = Journal::Open(dir.path());
  REQUIRE(journal.ok());
  REQUIRE((*journal)->Begin("destroy", "good", {}).ok());
  REQUIRE(WriteFileAtomic(dir.path() + "/00000000000000001-000000-create", "garbage\n", 0600).ok());
  REQUIRE(WriteFileAtomic(dir.path() + "/.tmp-leftover", "half", 0600).ok());
  auto pending = (*journal)->Pending();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].subject == "good");
  CHECK(PathExists(dir.path() + "/00000000000000001-000000-create.corrupt"));
  CHECK_FALSE(PathExists(dir.path() + "/.tmp-leftover"));
  CHECK((*journal)->Pending().size() == 1);
}

TEST_CASE("an unsynced entry reads back like any other; an empty one is removed, not kept") {
  test::TempDir dir("zdap-journal");
  auto journal = Journal::Open(dir.path());
  REQUIRE(journal.ok());
  auto e =
      (*journal)->Begin("claim", "shop-1a2b", {{"owner", "alice"}}, JournalWrite{.sync = false});
  REQUIRE(e.ok());
  struct stat st;
  REQUIRE(::stat((dir.path() + "/" + e->id).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // What a machine crash leaves of an unsynced entry: the name without the content.
  REQUIRE(WriteFileAtomic(dir.path() + "/01796113828785643-000009-claim", "", 0600).ok());
  auto pending = (*journal)->Pending();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].op == "claim");
  CHECK(pending[0].Get("owner") == "alice");
  CHECK_FALSE(PathExists(dir.path() + "/01796113828785643-000009-claim"));
  CHECK_FALSE(PathExists(dir.path() + "/01796113828785643-000009-claim.corrupt"));
  REQUIRE((*journal)->Commit(*e).ok());
  CHECK((*journal)->Pending().empty());
}
