#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/time.h"

namespace zdap::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;
}  // namespace

void SetLevel(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}
Level GetLevel() {
  return g_level.load(std::memory_order_relaxed);
}

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warn")
    *level = Level::kWarn;
  else if (text == "error")
    *level = Level::kError;
  else if (text == "off")
    *level = Level::kOff;
  else
    return false;
  return true;
}

void Write(Level level, std::string_view message) {
  static constexpr std::string_view kNames[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  if (level >= Level::kOff) return;
  std::string line = FormatRfc3339Millis(SystemNow());
  line += ' ';
  line += kNames[static_cast<int>(level)];
  line += ' ';
  line += message;
  line += '\n';
  std::lock_guard lock(g_mu);
  // One write(2) per line so lines from several processes sharing stderr do not interleave.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace zdap::log
