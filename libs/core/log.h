// Leveled logging to stderr: "2026-11-22T03:00:00.123Z INFO  storage: picked btrfs (...)".
// Thread-safe; one line per call. Never log secrets (passwords, tokens): callers redact.
// Rate-limited: a message repeated (same level and text) within kRepeatWindow of its last
// printing is suppressed; its next printing after the window ends in "(N similar suppressed)".
// So a failure in a tight loop cannot flood the log.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace zdap::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };

void SetLevel(Level level);
Level GetLevel();
// Parses "debug|info|warn|error|off"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* level);

inline constexpr int kRepeatWindowMillis = 2000;

void Write(Level level, std::string_view message);

template <typename... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kDebug)
    Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kInfo) Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kWarn) Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLevel() <= Level::kError)
    Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace zdap::log
