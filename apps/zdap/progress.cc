#include "zdap/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace zdap::cli {
namespace {

constexpr auto kFrameInterval = std::chrono::milliseconds(120);
constexpr const char kFrames[] = "|/-\\";

// The one status line that shows now (a verb has at most one), for Warn.
std::mutex g_active_mu;
StatusLine* g_active = nullptr;

// Columns of the terminal on stderr; a line as wide would wrap, and "\r" would then only
// return to its last row.
size_t TerminalColumns() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

bool StderrIsTerminal() {
  if (::isatty(STDERR_FILENO) != 1) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

StatusLine::StatusLine(bool enabled) : shown_(enabled && StderrIsTerminal()) {
  if (!shown_) return;
  {
    std::lock_guard<std::mutex> g(g_active_mu);
    g_active = this;
  }
  animator_ = std::thread([this] { Animate(); });
}

StatusLine::~StatusLine() {
  if (!shown_) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  animator_.join();
  std::lock_guard<std::mutex> g(g_active_mu);
  std::lock_guard<std::mutex> l(mu_);
  EraseLocked();
  g_active = nullptr;
}

void StatusLine::Spin(const std::string& step) {
  if (!shown_) return;
  std::lock_guard<std::mutex> l(mu_);
  if (!spinning_ || text_ != step) step_start_ = std::chrono::steady_clock::now();
  text_ = step;
  spinning_ = true;
  DrawLocked();
}

void StatusLine::Show(const std::string& text) {
  if (!shown_) return;
  std::lock_guard<std::mutex> l(mu_);
  text_ = text;
  spinning_ = false;
  DrawLocked();
}

void StatusLine::Clear() {
  if (!shown_) return;
  std::lock_guard<std::mutex> l(mu_);
  text_.clear();
  spinning_ = false;
  EraseLocked();
}

void StatusLine::Animate() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    wake_.wait_for(l, kFrameInterval);
    if (stop_) break;
    if (spinning_) {
      ++frame_;
      DrawLocked();
    }
  }
}

void StatusLine::DrawLocked() {
  if (text_.empty()) return;
  std::string line = text_;
  if (spinning_) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now() - step_start_)
                       .count();
    line = fmt::format("{} {}", kFrames[frame_ % (sizeof(kFrames) - 1)], text_);
    if (seconds >= 1) line += fmt::format(" ({} s)", seconds);
  }
  size_t columns = TerminalColumns();
  if (line.size() >= columns) line.resize(columns > 1 ? columns - 1 : 0);
  std::cerr << "\r" << line << "\x1b[K" << std::flush;
  drawn_ = true;
}

void StatusLine::EraseLocked() {
  if (!drawn_) return;
  std::cerr << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

void Warn(const std::string& message) {
  std::lock_guard<std::mutex> g(g_active_mu);
  if (g_active == nullptr) {
    std::cerr << "zdap: warning: " << message << "\n";
    return;
  }
  std::lock_guard<std::mutex> l(g_active->mu_);
  bool was_drawn = g_active->drawn_;
  g_active->EraseLocked();
  std::cerr << "zdap: warning: " << message << "\n";
  if (was_drawn) g_active->DrawLocked();
}

}  // namespace zdap::cli
