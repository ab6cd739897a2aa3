// Small file helpers with Status errors that name the path.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64u << 20);
// A file that holds a secret (a password, a shared key): its content, only if it is a regular
// file that no one but its owner may read; else InvalidArgument saying `chmod 600 <path>`.
Result<std::string> ReadSecretFile(const std::string& path, size_t max_bytes = 4096);
// A secret file of one line (a password, a token): ReadSecretFile's content without its line
// ending (\n or \r\n). A second line is refused: it would be taken as part of the secret, or
// add a line where the secret is written out (a .pgpass).
Result<std::string> ReadSecretLine(const std::string& path, size_t max_bytes = 4096);

// Who a written file belongs to when that is not the writer: a database server running as
// another user reads it. The temp file gets this owner before the rename, so the file never
// appears under its name owned by the writer (a reader in that window would be refused).
struct FileOwner {
  uid_t uid;
  gid_t gid;
};

// Writes `data` to `path` atomically: temp file in the same directory, fsync, rename, fsync of
// the directory. Readers see the old or the new content, never a mix, even after a crash.
// The file has exactly `mode` (umask aside) and, with `owner`, that owner from its first
// moment under `path`.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                       const std::optional<FileOwner>& owner = std::nullopt);
// Like WriteFileAtomic for readers (old or new content, never a mix) but without the fsyncs,
// which cost milliseconds each: for files that are written again before every use, such as a
// clone server's pg_hba.conf or init file, so a crash may lose them harmlessly.
Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode = 0644,
                   const std::optional<FileOwner>& owner = std::nullopt);
// fsync of a file's content and inode, for a file written with ReplaceFile that must now
// last: its name is durable once its directory is synced too (SyncDir).
Status SyncFile(const std::string& path);
// fsync of a directory, so that the creations, renames and removals of names in it survive
// a crash. Errors are reported: a directory that cannot be synced is not durable.
Status SyncDir(const std::string& dir);
// mkdir -p with `mode` for the directories it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);
// rm -rf that stays on one file system and never follows symlinks.
Status RemoveTree(const std::string& path);
bool PathExists(const std::string& path);
// Last `max_lines` lines of a (log) file, for error messages; empty on any error.
std::string TailFile(const std::string& path, int max_lines = 20, size_t max_bytes = 16384);

}  // namespace zdap
