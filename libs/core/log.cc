#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/time.h"

namespace zdap::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;

// Recently printed messages (guarded by g_mu). Bounded: cleared when it grows past
// kMaxRecent, which at worst lets a few repeats through.
struct Recent {
  std::chrono::steady_clock::time_point printed;
  long suppressed = 0;
};
constexpr size_t kMaxRecent = 256;
std::unordered_map<std::string, Recent> g_recent;

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
  std::string key;
  key += static_cast<char>('0' + static_cast<int>(level));
  key += message;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(g_mu);
  long suppressed = 0;
  if (auto it = g_recent.find(key); it != g_recent.end()) {
    if (now - it->second.printed < std::chrono::milliseconds(kRepeatWindowMillis)) {
      ++it->second.suppressed;
      return;
    }
    suppressed = it->second.suppressed;
    it->second = Recent{now, 0};
  } else {
    if (g_recent.size() >= kMaxRecent) g_recent.clear();
    g_recent.emplace(std::move(key), Recent{now, 0});
  }
  std::string line = FormatRfc3339Millis(SystemNow());
  line += ' ';
  line += kNames[static_cast<int>(level)];
  line += ' ';
  line += message;
  if (suppressed > 0) line += fmt::format(" ({} similar suppressed)", suppressed);
  line += '\n';
  // One write(2) per line so lines from several processes sharing stderr do not interleave.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace zdap::log
