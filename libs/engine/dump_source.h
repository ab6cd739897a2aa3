// Import plumbing shared by the engines: where a resource's data comes from (a dump file in
// one of several formats, a script that prints a dump's path, or a command that streams a
// dump) and how a database client gets it as its standard input.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/resource.h"
#include "core/env.h"
#include "core/result.h"
#include "core/subprocess.h"

namespace zdap::engine {

enum class DumpFormat {
  kSql,          // plain SQL text
  kSqlGzip,      // .sql.gz
  kSqlZstd,      // .sql.zst
  kPgCustom,     // pg_dump -Fc ("PGDMP" magic)
  kPgDirectory,  // pg_dump -Fd (a directory with toc.dat)
};
const char* DumpFormatName(DumpFormat format);

// The format of a dump from its first bytes (magic numbers, not file names).
DumpFormat SniffDumpFormat(std::string_view head);
// The format of the dump file or directory at `path`; NotFound names the path.
Result<DumpFormat> DetectDumpFormat(const std::string& path);

// How far an import has got, for a refresh job to report. Installed for the calling thread by
// ScopedImportProgress (so Engine::Import needs no extra parameter); DumpInput reports into
// it: each input opened (the dump, then each `after` script), the bytes handed to the client
// (of the file as stored: compressed bytes for .gz/.zst), and the client's output lines.
class ImportProgress {
 public:
  static constexpr size_t kTailLines = 50;
  std::atomic<int64_t> bytes_done{0};
  std::atomic<int64_t> bytes_total{0};  // 0 = unknown (a command's stream)
  std::atomic<int> inputs_opened{0};    // 1 = the dump, more = `after` scripts

  // Appends `text`'s lines to the tail, keeping the last kTailLines (each cut to 500 bytes).
  void AddOutput(std::string_view text);
  std::vector<std::string> Tail() const;

 private:
  mutable std::mutex mu_;
  std::deque<std::string> tail_;
};

// Reports imports run on this thread into `progress` while it lives.
class ScopedImportProgress {
 public:
  explicit ScopedImportProgress(ImportProgress* progress);
  ~ScopedImportProgress();
  ScopedImportProgress(const ScopedImportProgress&) = delete;
  ScopedImportProgress& operator=(const ScopedImportProgress&) = delete;

 private:
  ImportProgress* previous_;
};

// A resource's dump, ready to be read once by one client. Helper processes (a script, a
// command, gzip -dc, zstd -dc) run as the daemon's user: they only read what the operator
// configured; database clients run as the server's user.
class DumpInput {
 public:
  // Resolves resource.source: `dump` as is; `script` is run (cwd: its directory) and the
  // last line of its stdout names the dump; `command` is started with its stdout on a pipe
  // and its format sniffed from the first bytes. `scratch_dir` receives helpers' stderr.
  // `env` times the waits on the helpers (it must outlive the input).
  static Result<DumpInput> Open(const config::Resource& resource, const std::string& scratch_dir,
                                Env& env = *Env::Default());

  DumpInput(DumpInput&&) noexcept;
  DumpInput& operator=(DumpInput&&) noexcept;
  ~DumpInput();  // kills helpers still running

  DumpFormat format() const;
  // The dump's path (for messages, and for clients that open it themselves such as
  // pg_restore -j); for a command, "command 'argv0 ...'".
  const std::string& label() const;
  // From a command: readable once, only through StdinPath().
  bool streamed() const;
  // What a client reads as its standard input: the file itself, or a pipe fed by gzip -dc /
  // zstd -dc / the command, so errors' line numbers are those of the decompressed SQL.
  // Valid until Finish().
  Result<std::string> StdinPath();
  // Call once the client has exited. Closes the pipe, kills the helpers if the client failed,
  // waits for them and returns a helper's own failure (exit status and stderr), if any.
  Status Finish(bool client_ok);

 private:
  struct State;
  explicit DumpInput(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The last lines of a client's output that say what went wrong, led by its first two lines
// that name an error (ERROR, FATAL, "error:") when those come earlier, with "<stdin>" (psql
// reads the dump from its standard input) replaced by `source`.
std::string ClientErrorSummary(const std::string& output, const std::string& source);
// A client's tuples-only answer to a count query ("3\n") as a number; Unavailable otherwise.
Result<int> ParseCountOutput(const std::string& output);

// Runs a set-up step (a client statement, an init tool) to its end with its output captured.
// A failing exit becomes IoError "<what> failed (<exit status>): <the tool's own words>".
Status RunSetupStep(SpawnOptions step, std::chrono::milliseconds limit, const std::string& tool,
                    const std::string& what);

// Runs `client` (its stdin is set here) over `input` and finishes the input. An error names
// the dump and carries the client's own message, which holds the dump's line number.
Status RunImportClient(DumpInput* input, SpawnOptions client, const std::string& client_name);

}  // namespace zdap::engine
