#include "origin/journal.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "core/log.h"
#include "core/time.h"

namespace zdap::origin {
namespace {

constexpr size_t kMaxValue = 1024;
constexpr size_t kMaxFile = 64 * 1024;
constexpr size_t kMaxSteps = 64;

bool IsWord(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool IsValue(const std::string& s) {
  return s.size() <= kMaxValue && std::none_of(s.begin(), s.end(), [](char c) {
           return c == '\n' || c == '\r' || c == '\0';
         });
}

Status CheckWord(const char* what, const std::string& s) {
  if (IsWord(s)) return Status::Ok();
  return InvalidArgument(
      fmt::format("journal: {} '{}' is not [a-z0-9_-]{{1,64}}", what, s.substr(0, 64)));
}

Status CheckValue(const char* what, const std::string& s) {
  if (IsValue(s)) return Status::Ok();
  return InvalidArgument(
      fmt::format("journal: {} is longer than {} bytes or spans lines", what, kMaxValue));
}

}  // namespace

bool JournalEntry::Did(const std::string& step) const {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

std::string JournalEntry::Get(const std::string& kind) const {
  auto it = creates.find(kind);
  return it == creates.end() ? std::string() : it->second;
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& dir, Env& env) {
  ZDAP_RETURN_IF_ERROR(env.MakeDirs(dir, 0700));
  return std::unique_ptr<Journal>(new Journal(dir, env));
}

std::string Journal::Serialize(const JournalEntry& e) {
  std::string out = "zdap-journal 1\n";
  out += "op " + e.op + "\n";
  out += "subject " + e.subject + "\n";
  for (const auto& [kind, value] : e.creates) out += "create " + kind + " " + value + "\n";
  for (const auto& step : e.steps) out += "step " + step + "\n";
  return out;
}

Result<JournalEntry> Journal::Parse(const std::string& id, const std::string& text) {
  if (text.size() > kMaxFile) return InvalidArgument("journal entry is larger than 64 KiB");
  JournalEntry e;
  e.id = id;
  size_t pos = 0;
  int line_no = 0;
  bool header = false, have_op = false, have_subject = false;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      return InvalidArgument(
          fmt::format("journal entry {}: line {} is cut short", id, line_no + 1));
    }
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    auto bad = [&](const char* why) {
      return InvalidArgument(fmt::format("journal entry {}: line {}: {}", id, line_no, why));
    };
    if (!IsValue(line)) return bad("too long or not text");
    if (!header) {
      if (line != "zdap-journal 1") return bad("not a zdap journal entry (version 1)");
      header = true;
      continue;
    }
    size_t sp = line.find(' ');
    std::string key = line.substr(0, sp);
    std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (key == "op") {
      if (have_op || !IsWord(rest)) return bad("op is repeated or not a word");
      e.op = rest;
      have_op = true;
    } else if (key == "subject") {
      if (have_subject) return bad("subject is repeated");
      e.subject = rest;
      have_subject = true;
    } else if (key == "create") {
      size_t sp2 = rest.find(' ');
      std::string kind = rest.substr(0, sp2);
      if (sp2 == std::string::npos || !IsWord(kind)) return bad("create needs a kind and a value");
      if (!e.creates.emplace(kind, rest.substr(sp2 + 1)).second) return bad("create is repeated");
    } else if (key == "step") {
      if (!IsWord(rest) || e.steps.size() >= kMaxSteps)
        return bad("step is not a word, or too many");
      e.steps.push_back(rest);
    } else {
      return bad("unknown key");
    }
  }
  if (!header || !have_op || !have_subject) {
    return InvalidArgument(fmt::format("journal entry {}: op or subject missing", id));
  }
  return e;
}

Status Journal::Write(const JournalEntry& entry, JournalWrite write) {
  std::string path = dir_ + "/" + entry.id;
  return write.sync ? env_.WriteFileAtomic(path, Serialize(entry), 0600)
                    : env_.ReplaceFile(path, Serialize(entry), 0600);
}

Result<JournalEntry> Journal::Begin(const std::string& op, const std::string& subject,
                                    std::map<std::string, std::string> creates,
                                    JournalWrite write) {
  ZDAP_RETURN_IF_ERROR(CheckWord("op", op));
  ZDAP_RETURN_IF_ERROR(CheckValue("subject", subject));
  for (const auto& [kind, value] : creates) {
    ZDAP_RETURN_IF_ERROR(CheckWord("kind", kind));
    ZDAP_RETURN_IF_ERROR(CheckValue(kind.c_str(), value));
  }
  static std::atomic<uint64_t> seq{0};
  JournalEntry e;
  // Sorts by start time; the sequence separates entries begun in the same microsecond.
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(env_.Now().time_since_epoch()).count();
  e.id = fmt::format("{:017}-{:06}-{}", us, seq++ % 1000000, op);
  e.op = op;
  e.subject = subject;
  e.creates = std::move(creates);
  ZDAP_RETURN_IF_ERROR(Write(e, write));
  return e;
}

Status Journal::Step(JournalEntry* entry, const std::string& step) {
  ZDAP_RETURN_IF_ERROR(CheckWord("step", step));
  entry->steps.push_back(step);
  return Write(*entry);
}

Status Journal::Commit(const JournalEntry& entry) {
  return env_.RemoveFile(dir_ + "/" + entry.id);
}

std::vector<JournalEntry> Journal::Pending() const {
  std::vector<JournalEntry> out;
  auto names = env_.GetChildren(dir_);
  if (!names.ok()) {
    log::Error("journal: {}", names.status().message());
    return out;
  }
  for (const std::string& name : *names) {
    const std::string path = dir_ + "/" + name;
    // Temporaries of an interrupted write and entries already set aside are not entries.
    if (name.starts_with(".")) {
      (void)env_.RemoveFile(path);
      continue;
    }
    if (name.empty() || name.ends_with(".corrupt")) continue;
    auto text = env_.ReadFile(path, kMaxFile + 1);
    if (text.ok() && text->empty()) {
      // An entry begun without sync whose content a machine crash lost: such operations
      // need nothing from recovery after a machine crash (JournalWrite).
      log::Warn("journal: {} is empty (cut by a machine crash); removed", name);
      (void)env_.RemoveFile(path);
      continue;
    }
    auto entry = text.ok() ? Parse(name, *text) : Result<JournalEntry>(text.status());
    if (!entry.ok()) {
      log::Error("journal: {}; moved aside to {}.corrupt", entry.status().message(), name);
      (void)env_.Rename(path, path + ".corrupt");
      continue;
    }
    out.push_back(std::move(*entry));
  }
  std::sort(out.begin(), out.end(),
            [](const JournalEntry& a, const JournalEntry& b) { return a.id < b.id; });
  return out;
}

}  // namespace zdap::origin
