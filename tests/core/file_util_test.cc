#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>

#include "core/file_util.h"
#include "core/subprocess.h"
#include "support/test_env.h"

using namespace zdap;
using zdap::test::TempDir;

TEST_CASE("ReplaceFile swaps the whole content in, with exactly the mode asked for") {
  TempDir dir("replace-file");
  std::string path = dir.path() + "/pg_hba.conf";
  REQUIRE(ReplaceFile(path, "first\n", 0600).ok());
  CHECK(ReadFile(path).value() == "first\n");
  ::umask(077);
  REQUIRE(ReplaceFile(path, "second, longer\n", 0644).ok());
  ::umask(022);
  CHECK(ReadFile(path).value() == "second, longer\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  // No temporary file is left next to it.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("ReplaceFile into a missing directory fails and names the path") {
  TempDir dir("replace-file-missing");
  Status st = ReplaceFile(dir.path() + "/no/such/file", "x", 0600);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find(dir.path() + "/no/such") != std::string::npos);
}

namespace {

struct ReaderTally {
  long opens = 0;
  long refused = 0;  // EACCES: the file was there but not readable by the reader
};

// Runs `write_once` `rounds` times while a child process running as `reader` opens `path` in
// a loop; what the reader saw.
ReaderTally ReadWhileWriting(const RunAs& reader, const std::string& path, int rounds,
                             const std::function<void(int)>& write_once) {
  int stop[2];
  int report[2];
  REQUIRE(::pipe2(stop, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(stop[1]);
    ::close(report[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(reader.gid, reader.gid, reader.gid) != 0 ||
        ::setresuid(reader.uid, reader.uid, reader.uid) != 0) {
      ::_exit(3);
    }
    ::fcntl(stop[0], F_SETFL, O_NONBLOCK);
    ReaderTally t;
    // Bounded: the writer closes `stop` when done; 20 s at most in any case.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    char byte;
    while (::read(stop[0], &byte, 1) < 0 && errno == EAGAIN &&
           std::chrono::steady_clock::now() < until) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      ++t.opens;
      if (fd >= 0) {
        ::close(fd);
      } else if (errno == EACCES) {
        ++t.refused;
      }
    }
    ::_exit(::write(report[1], &t, sizeof t) == sizeof t ? 0 : 4);
  }
  ::close(stop[0]);
  ::close(report[1]);
  // The reader is running (a first open done) before the writes start.
  for (int i = 0; i < rounds; ++i) write_once(i);
  ::close(stop[1]);
  ReaderTally t;
  ssize_t n = ::read(report[0], &t, sizeof t);
  ::close(report[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(n == static_cast<ssize_t>(sizeof t));
  return t;
}

}  // namespace

TEST_CASE("ReplaceFile with an owner: a reader running as that owner is never refused") {
  // As zdapd rewrites a clone's pg_hba.conf while its postgres (another user) starts up and
  // reads it: a chown after the rename refused the reader about one start in 20.
  auto postgres = LookupUser("postgres");
  REQUIRE(postgres.ok());  // the postgresql package makes it; without it this cannot look
  REQUIRE(::geteuid() == 0);
  TempDir dir("replace-owned");
  // Like a data dir: private to the server's user; the writer (root) gets in regardless.
  REQUIRE(::chown(dir.path().c_str(), postgres->uid, postgres->gid) == 0);
  std::string path = dir.path() + "/pg_hba.conf";
  FileOwner owner{postgres->uid, postgres->gid};
  REQUIRE(ReplaceFile(path, "local all all trust\n", 0600, owner).ok());
  ReaderTally t = ReadWhileWriting(*postgres, path, 500, [&](int i) {
    REQUIRE(ReplaceFile(path, i % 2 ? "local all all trust\n" : "host all all all reject\n", 0600,
                        owner)
                .ok());
  });
  INFO("opens " << t.opens << ", refused " << t.refused);
  CHECK(t.opens > 100);  // the reader really looked while the file was replaced
  CHECK(t.refused == 0);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_uid == postgres->uid);
  CHECK(st.st_gid == postgres->gid);
  CHECK((st.st_mode & 07777) == 0600);
  // The durable variant takes the owner the same way.
  REQUIRE(WriteFileAtomic(path, "x\n", 0600, owner).ok());
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_uid == postgres->uid);
}

TEST_CASE("ReplaceFile to an owner it may not give files to fails and leaves the old file") {
  auto nobody = LookupUser("nobody");
  REQUIRE(nobody.ok());
  TempDir dir("replace-owned-refused");
  std::string path = dir.path() + "/init.sql";
  REQUIRE(ReplaceFile(path, "old\n", 0600).ok());
  // As nobody (in a child: uids are per process), giving a file to root is refused.
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::chown(dir.path().c_str(), nobody->uid, nobody->gid) != 0 ||
        ::chown(path.c_str(), nobody->uid, nobody->gid) != 0 || ::setgroups(0, nullptr) != 0 ||
        ::setresgid(nobody->gid, nobody->gid, nobody->gid) != 0 ||
        ::setresuid(nobody->uid, nobody->uid, nobody->uid) != 0) {
      ::_exit(3);
    }
    Status st = ReplaceFile(path, "new\n", 0600, FileOwner{0, 0});
    bool named = st.message().find("chown " + dir.path() + "/.init.sql.tmp-") != std::string::npos;
    ::_exit(st.ok() ? 1 : named ? 0 : 2);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(ReadFile(path).value() == "old\n");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);  // no temp file left behind
}

TEST_CASE("ReadSecretLine gives a secret file's one line, and refuses a second or a wide mode") {
  TempDir dir("secret-line");
  const std::string path = dir.path() + "/secret";
  auto write = [&](std::string_view text, mode_t mode) {
    REQUIRE(ReplaceFile(path, text, mode).ok());
    REQUIRE(::chmod(path.c_str(), mode) == 0);
  };
  write("s3cret\n", 0600);
  CHECK(ReadSecretLine(path).value() == "s3cret");
  write("s3cret\r\n", 0600);
  CHECK(ReadSecretLine(path).value() == "s3cret");
  // Spaces are part of a password: only the line ending goes.
  write(" pass word \n", 0600);
  CHECK(ReadSecretLine(path).value() == " pass word ");
  write("s3cret", 0600);
  CHECK(ReadSecretLine(path).value() == "s3cret");
  // A second line would become a second .pgpass line where the password is written out.
  write("s3cret\nhost:5432:*:postgres:other\n", 0600);
  auto two = ReadSecretLine(path);
  REQUIRE_FALSE(two.ok());
  CHECK(two.status().message().find("more than one line") != std::string::npos);
  write("a\rb", 0600);
  CHECK_FALSE(ReadSecretLine(path).ok());
  write("s3cret\n", 0644);
  auto wide = ReadSecretLine(path);
  REQUIRE_FALSE(wide.ok());
  CHECK(wide.status().message().find("chmod 600") != std::string::npos);
  write(std::string(5000, 'x'), 0600);
  CHECK_FALSE(ReadSecretLine(path).ok());
}
