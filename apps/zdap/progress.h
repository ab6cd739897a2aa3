// What a slow verb is doing, shown on a terminal only: one status line on stderr -- a spinner
// with the step and its seconds, or a progress bar -- redrawn in place and erased when done.
// Off a terminal (stderr not a tty, or TERM=dumb) or when disabled (-q) it prints nothing, so
// piped and scripted output is exactly the result. Warnings printed while a line shows go
// through Warn(), which erases the line first and redraws it after.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace zdap::cli {

// stderr is a terminal that understands "\r" and "erase to end of line".
bool StderrIsTerminal();

class StatusLine {
 public:
  // Shows nothing unless `enabled` and StderrIsTerminal().
  explicit StatusLine(bool enabled);
  ~StatusLine();  // erases the line
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  bool shown() const { return shown_; }
  // A spinner and `step`, with the seconds the step has taken once it passes one (the same
  // step again keeps counting); animated until the next call.
  void Spin(const std::string& step);
  // `text` as it is (a progress bar), until the next call.
  void Show(const std::string& text);
  // Erases the line; the next Spin or Show draws it again.
  void Clear();

 private:
  friend void Warn(const std::string& message);
  void Animate();
  void DrawLocked();
  void EraseLocked();

  const bool shown_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::string text_;
  bool spinning_ = false;
  bool drawn_ = false;
  bool stop_ = false;
  size_t frame_ = 0;
  std::chrono::steady_clock::time_point step_start_;
  std::thread animator_;
};

// "zdap: warning: MESSAGE" on stderr, above the status line if one shows.
void Warn(const std::string& message);

}  // namespace zdap::cli
