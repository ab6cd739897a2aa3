#include "engine/dump_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "core/file_util.h"
#include "core/log.h"
#include "core/unique_fd.h"

namespace zdap::engine {
namespace {

// A whole dump may take hours to load; a helper that outlives its client's EOF gets this long.
constexpr auto kImportTimeout = std::chrono::hours(12);
constexpr auto kHelperExitGrace = std::chrono::seconds(30);

// Spawn's stdin_path/output_path take paths; a pipe end is reachable as one through procfs
// (opened by the daemon, so no permission question arises for the child's user).
std::string FdPath(int fd) {
  return fmt::format("/proc/self/fd/{}", fd);
}

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

Status MakePipe(int* read_end, int* write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
  *read_end = p[0];
  *write_end = p[1];
  return Status::Ok();
}

// Spawn sends stdout and stderr to one place; a helper's stdout is data, so its stderr is
// redirected to a file by a shell that then execs it (arguments stay arguments: "$@").
std::vector<std::string> WithStderrTo(const std::string& stderr_file,
                                      const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"/bin/sh", "-c", "exec \"$@\" 2>>\"$0\"", stderr_file};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string Describe(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

thread_local ImportProgress* current_progress = nullptr;

struct Helper {
  std::string name;  // "gzip -dc", "command 'pg_dump ...'"
  Subprocess process;
  std::string stderr_file;
  bool done = false;
  int wait_status = 0;
};

}  // namespace

struct DumpInput::State {
  explicit State(Env& e) : env(e) {}
  Env& env;
  DumpFormat format = DumpFormat::kSql;
  std::string label;
  std::string path;  // the dump file or directory; "" when streamed
  std::string scratch_dir;
  std::vector<Helper> helpers;
  int command_fd = -1;  // a command's stdout (read end), before the pump takes it
  std::string head;     // bytes read from the command while sniffing its format
  int stream_fd = -1;   // the read end a client gets
  std::thread pump;
  bool stdin_given = false;
  ImportProgress* progress = nullptr;  // the opening thread's, if any

  ~State() {
    CloseFd(&stream_fd);
    for (auto& h : helpers) {
      if (!h.done) {
        h.process.Signal(SIGKILL);
        (void)h.process.Wait();
      }
    }
    if (pump.joinable()) pump.join();
    CloseFd(&command_fd);
  }

  Status StartHelper(const std::string& name, const std::vector<std::string>& argv,
                     const std::string& stdin_path, int* out_read_end) {
    int w = -1;
    ZDAP_RETURN_IF_ERROR(MakePipe(out_read_end, &w));
    Helper h;
    h.name = name;
    h.stderr_file = fmt::format("{}/helper-{}.err", scratch_dir, helpers.size());
    (void)::unlink(h.stderr_file.c_str());
    SpawnOptions o;
    o.argv = WithStderrTo(h.stderr_file, argv);
    o.stdin_path = stdin_path;
    o.output_path = FdPath(w);
    o.die_with_parent = true;
    auto child = Subprocess::Spawn(o);
    CloseFd(&w);  // the child holds the write end now: its exit is the reader's EOF
    if (!child.ok()) {
      CloseFd(out_read_end);
      return child.status().Wrap(name);
    }
    h.process = std::move(*child);
    helpers.push_back(std::move(h));
    return Status::Ok();
  }

  // Copies what was sniffed, then the rest of the command's output, into a new pipe.
  Status StartPump(int* out_read_end) {
    int w = -1;
    ZDAP_RETURN_IF_ERROR(MakePipe(out_read_end, &w));
    int from = command_fd;
    command_fd = -1;
    pump = std::thread([from, w, head = head, progress = progress]() {
      // A client that quits early must turn into EPIPE here, not a process-wide SIGPIPE.
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
      auto write_all = [w](const char* p, size_t n) {
        while (n > 0) {
          ssize_t k = ::write(w, p, n);
          if (k < 0 && errno == EINTR) continue;
          if (k <= 0) return false;
          p += k;
          n -= static_cast<size_t>(k);
        }
        return true;
      };
      std::vector<char> buf(1 << 16);
      bool ok = write_all(head.data(), head.size());
      while (ok) {
        ssize_t n = ::read(from, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (progress != nullptr) progress->bytes_done += n;
        ok = write_all(buf.data(), static_cast<size_t>(n));
      }
      ::close(from);
      ::close(w);
    });
    return Status::Ok();
  }
};

const char* DumpFormatName(DumpFormat format) {
  switch (format) {
    case DumpFormat::kSql:
      return "SQL";
    case DumpFormat::kSqlGzip:
      return "gzip-compressed SQL";
    case DumpFormat::kSqlZstd:
      return "zstd-compressed SQL";
    case DumpFormat::kPgCustom:
      return "pg_dump custom format";
    case DumpFormat::kPgDirectory:
      return "pg_dump directory format";
  }
  return "?";
}

DumpFormat SniffDumpFormat(std::string_view head) {
  if (head.substr(0, 2) == std::string_view("\x1f\x8b", 2)) return DumpFormat::kSqlGzip;
  if (head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) return DumpFormat::kSqlZstd;
  if (head.substr(0, 5) == "PGDMP") return DumpFormat::kPgCustom;
  return DumpFormat::kSql;
}

Result<DumpFormat> DetectDumpFormat(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound(fmt::format("dump {}: {}", path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    if (!PathExists(path + "/toc.dat")) {
      return Unprocessable(fmt::format(
          "dump {} is a directory without toc.dat: not a pg_dump directory-format dump", path));
    }
    return DumpFormat::kPgDirectory;
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open dump " + path, errno);
  char head[8];
  ssize_t n = ::read(fd.get(), head, sizeof head);
  if (n < 0) return ErrnoError("read dump " + path, errno);
  return SniffDumpFormat(std::string_view(head, static_cast<size_t>(n)));
}

DumpInput::DumpInput(std::unique_ptr<State> state) : state_(std::move(state)) {}
DumpInput::DumpInput(DumpInput&&) noexcept = default;
DumpInput& DumpInput::operator=(DumpInput&&) noexcept = default;
DumpInput::~DumpInput() = default;

DumpFormat DumpInput::format() const {
  return state_->format;
}
const std::string& DumpInput::label() const {
  return state_->label;
}
bool DumpInput::streamed() const {
  return state_->path.empty();
}

Result<DumpInput> DumpInput::Open(const config::Resource& resource, const std::string& scratch_dir,
                                  Env& env) {
  auto s = std::make_unique<State>(env);
  s->scratch_dir = scratch_dir;
  // The first input of an import is the dump; its bytes are the progress a job reports.
  if (current_progress != nullptr && current_progress->inputs_opened++ == 0) {
    s->progress = current_progress;
  }
  const auto& src = resource.source;
  if (!src.url.empty()) {
    // The engine dumps a live server first and opens what it made (a directory archive, a
    // command's stream).
    return Internal(
        fmt::format("resource '{}': source.url reached DumpInput undumped", resource.name));
  }
  std::string dump = src.dump;
  if (!src.script.empty()) {
    std::string err_file = scratch_dir + "/script.err";
    (void)::unlink(err_file.c_str());
    SpawnOptions o;
    o.argv = WithStderrTo(err_file, {src.script});
    o.cwd = std::filesystem::path(src.script).parent_path().string();
    o.capture_output = true;
    o.die_with_parent = true;
    log::Info("resource {}: running source.script {}", resource.name, src.script);
    auto r = Run(o, kImportTimeout);
    if (!r.ok()) return r.status().Wrap("source.script " + src.script);
    if (!r->ok()) {
      return Unprocessable(fmt::format("source.script {} {}: {}", src.script,
                                       DescribeWaitStatus(r->wait_status),
                                       ClientErrorSummary(TailFile(err_file, 6), src.script)));
    }
    std::string out = r->output;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
      out.pop_back();
    }
    dump = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
    if (dump.empty()) {
      return Unprocessable(
          fmt::format("source.script {} printed nothing: its last line of output must name a dump",
                      src.script));
    }
    if (dump[0] != '/') dump = (std::filesystem::path(o.cwd) / dump).lexically_normal().string();
  }
  if (!dump.empty()) {
    auto format = DetectDumpFormat(dump);
    if (!format.ok()) {
      return format.status().Wrap(fmt::format("resource '{}': source.{}", resource.name,
                                              src.script.empty() ? "dump" : "script"));
    }
    s->format = *format;
    s->path = dump;
    s->label = dump;
    return DumpInput(std::move(s));
  }
  // source.command: stream its stdout; the format shows in the first bytes.
  s->label = fmt::format("command '{}'", Describe(src.command));
  ZDAP_RETURN_IF_ERROR(s->StartHelper(s->label, src.command, "", &s->command_fd));
  auto deadline = s->env.MonotonicNow() + kImportTimeout;
  char buf[8];
  while (s->head.size() < 5) {
    pollfd p{s->command_fd, POLLIN, 0};
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - s->env.MonotonicNow());
    if (left.count() <= 0) return Unavailable(s->label + " produced no output in time");
    int pr = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
    if (pr < 0 && errno != EINTR) return ErrnoError("poll", errno);
    if (pr <= 0) continue;
    ssize_t n = ::read(s->command_fd, buf, 5 - s->head.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s->head.append(buf, static_cast<size_t>(n));
  }
  s->format = SniffDumpFormat(s->head);
  return DumpInput(std::move(s));
}

Result<std::string> DumpInput::StdinPath() {
  State& s = *state_;
  if (s.stdin_given) return Internal("a dump input is read only once");
  s.stdin_given = true;
  std::string source;  // path of the (possibly compressed) bytes
  // pg_restore may seek in a custom archive: it keeps the file itself (progress: none).
  bool count = s.progress != nullptr && s.format != DumpFormat::kPgCustom;
  if (!s.path.empty() && !count) {
    if (s.format == DumpFormat::kSql || s.format == DumpFormat::kPgCustom) return s.path;
    if (s.format == DumpFormat::kPgDirectory) {
      return Unprocessable(s.label + " is a directory: it cannot be read as a stream");
    }
    source = s.path;
  } else if (!s.path.empty()) {
    if (s.format == DumpFormat::kPgDirectory) {
      return Unprocessable(s.label + " is a directory: it cannot be read as a stream");
    }
    // A file read through the counting pump, so the job can say how far the client got.
    int fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open dump " + s.path, errno);
    struct stat st;
    if (::fstat(fd, &st) == 0) s.progress->bytes_total = st.st_size;
    s.command_fd = fd;
    s.head.clear();
    int r = -1;
    ZDAP_RETURN_IF_ERROR(s.StartPump(&r));
    s.stream_fd = r;
    source = FdPath(r);
  } else {
    int r = -1;
    ZDAP_RETURN_IF_ERROR(s.StartPump(&r));
    s.stream_fd = r;
    source = FdPath(r);
  }
  if (s.format == DumpFormat::kSqlGzip || s.format == DumpFormat::kSqlZstd) {
    std::vector<std::string> argv = s.format == DumpFormat::kSqlGzip
                                        ? std::vector<std::string>{"gzip", "-dc"}
                                        : std::vector<std::string>{"zstd", "-dcq"};
    int r = -1;
    ZDAP_RETURN_IF_ERROR(s.StartHelper(Describe(argv), argv, source, &r));
    CloseFd(&s.stream_fd);  // the decompressor holds the pump's read end
    s.stream_fd = r;
  }
  return FdPath(s.stream_fd);
}

Status DumpInput::Finish(bool client_ok) {
  State& s = *state_;
  CloseFd(&s.stream_fd);  // a writer still running now gets EPIPE
  CloseFd(&s.command_fd);
  if (!client_ok) {
    for (auto& h : s.helpers) h.process.Signal(SIGKILL);
  }
  auto deadline = s.env.MonotonicNow() + kHelperExitGrace;
  for (auto& h : s.helpers) {
    bool exited = h.process.TryWait(&h.wait_status);
    while (!exited && s.env.MonotonicNow() < deadline) {
      s.env.SleepFor(std::chrono::milliseconds(5));
      exited = h.process.TryWait(&h.wait_status);
    }
    if (!exited) {
      h.process.Signal(SIGKILL);
      auto st = h.process.Wait();
      h.wait_status = st.ok() ? *st : 0;
      h.done = true;
      if (client_ok) return Unavailable(h.name + " did not exit after the import; killed it");
      continue;
    }
    h.done = true;
  }
  if (s.pump.joinable()) s.pump.join();
  for (auto& h : s.helpers) {
    if (ExitedZero(h.wait_status)) continue;
    bool killed_by_us = !client_ok && WIFSIGNALED(h.wait_status) &&
                        (WTERMSIG(h.wait_status) == SIGKILL || WTERMSIG(h.wait_status) == SIGPIPE);
    if (killed_by_us) continue;
    std::string err = TailFile(h.stderr_file, 6);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    for (auto& c : err) c = c == '\n' ? ' ' : c;
    return Unprocessable(fmt::format("{} {}{}{}", h.name, DescribeWaitStatus(h.wait_status),
                                     err.empty() ? "" : ": ", err));
  }
  return Status::Ok();
}

Status RunSetupStep(SpawnOptions step, std::chrono::milliseconds limit, const std::string& tool,
                    const std::string& what) {
  step.capture_output = true;
  step.die_with_parent = true;
  auto r = Run(step, limit);
  if (!r.ok()) return r.status().Wrap(tool);
  if (!r->ok()) {
    return IoError(fmt::format("{} failed ({}): {}", what, DescribeWaitStatus(r->wait_status),
                               ClientErrorSummary(r->output, tool)));
  }
  return Status::Ok();
}

namespace {
// psql reads the dump from its standard input: its messages say "<stdin>" for the dump.
std::string NameStdin(const std::string& output, const std::string& source) {
  std::string text = output;
  for (size_t pos = 0; (pos = text.find("<stdin>", pos)) != std::string::npos;) {
    text.replace(pos, 7, source);
    pos += source.size();
  }
  return text;
}
}  // namespace

void ImportProgress::AddOutput(std::string_view text) {
  std::lock_guard lock(mu_);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) tail_.emplace_back(text.substr(start, std::min<size_t>(end - start, 500)));
    while (tail_.size() > kTailLines) tail_.pop_front();
    start = end + 1;
  }
}

std::vector<std::string> ImportProgress::Tail() const {
  std::lock_guard lock(mu_);
  return {tail_.begin(), tail_.end()};
}

ScopedImportProgress::ScopedImportProgress(ImportProgress* progress) : previous_(current_progress) {
  current_progress = progress;
}

ScopedImportProgress::~ScopedImportProgress() {
  current_progress = previous_;
}

std::string ClientErrorSummary(const std::string& output, const std::string& source) {
  std::string text = NameStdin(output, source);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  std::string out;
  auto add = [&out](const std::string& line) {
    if (!out.empty()) out += " | ";
    out += line.substr(0, 500);
  };
  size_t first = lines.size() > 6 ? lines.size() - 6 : 0;
  // The first two lines that name an error lead when the last lines do not hold them: some
  // tools end with boilerplate after the line that matters (mariadb-install-db: where to
  // report bugs).
  int leading = 0;
  for (size_t i = 0; i < first && leading < 2; ++i) {
    const std::string& l = lines[i];
    if (l.find("ERROR") == std::string::npos && l.find("FATAL") == std::string::npos &&
        l.find("error:") == std::string::npos) {
      continue;
    }
    add(l);
    ++leading;
  }
  if (leading > 0) out += " | ...";
  for (size_t i = first; i < lines.size(); ++i) add(lines[i]);
  return out.empty() ? "no output" : out;
}

Status RunImportClient(DumpInput* input, SpawnOptions client, const std::string& client_name) {
  auto stdin_path = input->StdinPath();
  if (!stdin_path.ok()) {
    (void)input->Finish(false);
    return stdin_path.status();
  }
  client.stdin_path = *stdin_path;
  client.capture_output = true;
  client.die_with_parent = true;
  auto r = Run(client, kImportTimeout);
  bool ok = r.ok() && r->ok();
  if (current_progress != nullptr && r.ok()) {
    current_progress->AddOutput(NameStdin(r->output, input->label()));
  }
  Status helpers = input->Finish(ok);
  if (!r.ok()) return r.status().Wrap(client_name);
  if (!r->ok()) {
    std::string msg = fmt::format("import of {} failed: {}", input->label(),
                                  ClientErrorSummary(r->output, input->label()));
    if (!helpers.ok()) msg += " (" + helpers.message() + ")";
    return Unprocessable(msg);
  }
  if (!helpers.ok()) {
    return Unprocessable(fmt::format("import of {} failed: {}", input->label(), helpers.message()));
  }
  return Status::Ok();
}

Result<int> ParseCountOutput(const std::string& output) {
  std::string out = output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (out.empty() || out.size() > 9 || out.find_first_not_of("0123456789") != std::string::npos) {
    return Unavailable(fmt::format("counting sessions: unexpected answer '{}'", out.substr(0, 80)));
  }
  return std::stoi(out);
}

}  // namespace zdap::engine
