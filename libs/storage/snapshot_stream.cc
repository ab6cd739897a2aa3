#include "storage/snapshot_stream.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <utility>

#include "core/log.h"
#include "core/subprocess.h"
#include "core/unique_fd.h"
#include "storage/space_usage.h"
#include "storage/store_layout.h"

namespace zdap::storage {

namespace {

// Bigger than the default 64 KiB so that a child and the caller, each moving data in large
// pieces, wait on each other less (best effort: the system may cap it).
constexpr int kPipeBytes = 1 << 20;
// Of a child's stderr, what is kept for the error message: the last lines of its tail.
constexpr size_t kStderrKeep = 16 * 1024;
constexpr int kStderrLines = 8;

// A child on one end of a pipe, its stderr drained by a thread of its own.
class StreamChild {
 public:
  StreamChild() = default;
  StreamChild(const StreamChild&) = delete;
  StreamChild& operator=(const StreamChild&) = delete;
  ~StreamChild() {
    Kill();
    (void)Wait();
  }

  // `options` has argv and stdin_fd or stdout_fd set; the rest is filled in here.
  Status Start(SpawnOptions options) {
    command_ = Describe(options.argv);
    options.capture_output = true;  // stderr, read below
    options.new_process_group = true;
    options.die_with_parent = true;
    auto child = Subprocess::Spawn(options);
    if (!child.ok()) return child.status().Wrap(command_);
    child_ = std::move(*child);
    running_ = true;
    drain_ = std::thread([this, fd = child_.output_fd()] { Drain(fd); });
    return Status::Ok();
  }

  // SIGKILL to the whole group (tar's compressor too), unless already reaped.
  void Kill() {
    if (running_) child_.Signal(SIGKILL);
  }

  // Reaps the child and ends the drain. Ok if it exited 0; else IoError naming the command,
  // how it ended and its last lines of stderr. Idempotent.
  Status Wait() {
    if (running_) {
      auto st = child_.Wait();
      running_ = false;
      wait_status_ = st.ok() ? *st : -1;
      if (!st.ok()) wait_error_ = st.status();
    }
    // EOF on stderr: the child and its own children (tar's zstd, which tar waits for) are gone.
    if (drain_.joinable()) drain_.join();
    if (!wait_error_.ok()) return wait_error_.Wrap(command_);
    if (ExitedZero(wait_status_)) return Status::Ok();
    std::string tail = StderrTail();
    return IoError(fmt::format("{} {}{}{}", command_, DescribeWaitStatus(wait_status_),
                               tail.empty() ? "" : ": ", tail));
  }

  const std::string& command() const { return command_; }

 private:
  static std::string Describe(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
  }

  void Drain(int fd) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      stderr_.append(buf, static_cast<size_t>(n));
      if (stderr_.size() > 2 * kStderrKeep) stderr_.erase(0, stderr_.size() - kStderrKeep);
    }
  }

  // The last lines of stderr on one line, "; " between them.
  std::string StderrTail() const {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < stderr_.size()) {
      size_t end = stderr_.find('\n', start);
      if (end == std::string::npos) end = stderr_.size();
      std::string line = stderr_.substr(start, end - start);
      start = end + 1;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) lines.push_back(std::move(line));
    }
    size_t first = lines.size() > kStderrLines ? lines.size() - kStderrLines : 0;
    std::string out;
    for (size_t i = first; i < lines.size(); ++i) out += (out.empty() ? "" : "; ") + lines[i];
    return out;
  }

  std::string command_;
  Subprocess child_;
  bool running_ = false;  // started and not yet reaped
  int wait_status_ = 0;
  Status wait_error_;
  std::thread drain_;
  std::string stderr_;  // written by drain_ until it is joined
};

Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
  read_end->Reset(p[0]);
  write_end->Reset(p[1]);
  (void)::fcntl(p[0], F_SETPIPE_SZ, kPipeBytes);
  return Status::Ok();
}

class ChildSender : public SnapshotSender {
 public:
  explicit ChildSender(uint64_t size_hint) : size_hint_(size_hint) {}
  ~ChildSender() override {
    child_.Kill();
    read_end_.Reset();
    (void)child_.Wait();
  }

  Status Start(std::vector<std::string> argv) {
    UniqueFd write_end;
    ZDAP_RETURN_IF_ERROR(MakePipe(&read_end_, &write_end));
    SpawnOptions options;
    options.argv = std::move(argv);
    options.stdout_fd = write_end.get();
    return child_.Start(std::move(options));
    // write_end closes here: the child's copy is the only one, so its exit is EOF.
  }

  int fd() const override { return read_end_.get(); }
  uint64_t size_hint() const override { return size_hint_; }

  Status Finish() override {
    // Closed first: a child still writing (the caller stopped before EOF) then fails with
    // EPIPE instead of blocking this wait forever.
    read_end_.Reset();
    return child_.Wait();
  }

 private:
  uint64_t size_hint_;
  UniqueFd read_end_;
  StreamChild child_;
};

class ChildReceiver : public SnapshotReceiver {
 public:
  explicit ChildReceiver(ReceiveSteps steps) : steps_(std::move(steps)) {}
  ~ChildReceiver() override {
    if (done_) return;
    child_.Kill();
    write_end_.Reset();
    (void)child_.Wait();
    steps_.discard();
  }

  Status Start(std::vector<std::string> argv) {
    UniqueFd read_end;
    ZDAP_RETURN_IF_ERROR(MakePipe(&read_end, &write_end_));
    SpawnOptions options;
    options.argv = std::move(argv);
    options.stdin_fd = read_end.get();
    return child_.Start(std::move(options));
  }

  int fd() const override { return write_end_.get(); }

  Status Finish() override {
    if (done_) return Internal("SnapshotReceiver::Finish called twice");
    write_end_.Reset();  // EOF for the child
    Status st = child_.Wait();
    if (st.ok()) st = steps_.publish();
    done_ = true;
    if (!st.ok()) steps_.discard();
    return st;
  }

 private:
  ReceiveSteps steps_;
  UniqueFd write_end_;
  StreamChild child_;
  bool done_ = false;  // Finish ran: what is left is published, or discarded already
};

}  // namespace

Result<std::unique_ptr<SnapshotSender>> StartSender(std::vector<std::string> argv,
                                                    uint64_t size_hint) {
  auto sender = std::make_unique<ChildSender>(size_hint);
  ZDAP_RETURN_IF_ERROR(sender->Start(std::move(argv)));
  return std::unique_ptr<SnapshotSender>(std::move(sender));
}

Result<std::unique_ptr<SnapshotReceiver>> StartReceiver(std::vector<std::string> argv,
                                                        ReceiveSteps steps) {
  auto receiver = std::make_unique<ChildReceiver>(std::move(steps));
  if (Status st = receiver->Start(std::move(argv)); !st.ok()) {
    return st;  // the receiver's destructor discards what the driver made for it
  }
  return std::unique_ptr<SnapshotReceiver>(std::move(receiver));
}

// GNU tar. --numeric-owner: owners by number, as they are on disk (the database user need
// not exist by name on either host). --sparse: holes stay holes. --xattrs: extended
// attributes, as CopyTree keeps them (ACLs and SELinux labels are not carried).
// --one-file-system: mount points are not crossed, as CopyTree and the space walk do.
Result<std::unique_ptr<SnapshotSender>> StartTarSender(const std::string& path,
                                                       uint64_t size_hint) {
  return StartSender({"tar", "--create", "--zstd", "--format=posix", "--numeric-owner", "--sparse",
                      "--xattrs", "--one-file-system", "-C", path, "-f", "-", "."},
                     size_hint);
}

// As root, GNU tar restores owners and modes (setuid bits too: the origin is trusted as much
// as the data it serves). It also refuses to write outside `dir`: it strips leading '/' and
// skips members with '..' (and then exits with status 2, which fails the receive), and it
// creates symlinks that point outside (absolute, or with '..') only after every other
// member, as placeholder files until then, so no member is written through one.
// --no-overwrite-dir is not used: it would keep `dir`'s own mode and owner instead of
// taking those of the archive's "./" (a data directory's 0700 and its database user).
std::vector<std::string> TarReceiveCommand(const std::string& dir) {
  return {"tar",
          "--extract",
          "--zstd",
          "--numeric-owner",
          "--preserve-permissions",
          "--same-owner",
          "--xattrs",
          "-C",
          dir,
          "-f",
          "-"};
}

std::vector<std::string> Driver::stream_formats() const {
  return {std::string(kStreamTarZstd)};
}

Result<std::unique_ptr<SnapshotSender>> Driver::SendSnapshot(const std::string& snapshot,
                                                             const std::string& format,
                                                             const std::string& base) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  if (format != kStreamTarZstd) {
    return InvalidArgument(fmt::format("the {} store cannot send a '{}' stream; it sends {}",
                                       name(), format, fmt::join(stream_formats(), ", ")));
  }
  if (!base.empty()) {
    return InvalidArgument(fmt::format(
        "a {} stream has no increments: send snapshot '{}' without a base", format, snapshot));
  }
  // Every driver has the snapshot's tree at this path (zfs mounts its dataset there).
  std::string path = SnapshotPath(snapshot);
  ZDAP_RETURN_IF_ERROR(RequirePresent(path, "snapshot", snapshot));
  ZDAP_ASSIGN_OR_RETURN(uint64_t bytes, FileBytes(path));
  return StartTarSender(path, bytes);
}

Result<std::unique_ptr<SnapshotReceiver>> Driver::ReceiveSnapshot(const std::string& volume,
                                                                  const std::string& format) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  (void)format;
  return Unprocessable(
      fmt::format("the {} store cannot receive snapshot streams yet (volume '{}'); only "
                  "directory stores (btrfs, reflink, overlay, copy) can",
                  name(), volume));
}

}  // namespace zdap::storage
