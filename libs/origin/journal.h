// Journal: the origin's crash journal. Each multi-step operation (create, destroy, refresh,
// reset, claim, branch) is written down before its first step, as one file
// <dir>/<id> (fsync'd unless JournalWrite says otherwise, mode 0600), and removed when the
// operation is over, whether it succeeded or was undone. After a kill -9, Recover() reads what is
// left and finishes or undoes each entry by its `op`.
//
//   auto entry = journal.Begin("create", clone_id, {{"clone", clone_id}, {"port", "6001"}});
//   ... journal.Step(&*entry, "started");  // optional: how far it got
//   journal.Commit(*entry);                // over: nothing left to recover
//
// Thread-safe (each entry is its own file; an entry is used by one thread).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace zdap::origin {

struct JournalEntry {
  std::string id;       // file name in the journal dir
  std::string op;       // "create", "destroy", "refresh", ...
  std::string subject;  // what it works on: a clone id, a resource name
  // What the operation will create or touch, by kind ("clone", "volume", "port", ...), so
  // that recovery can undo it without guessing.
  std::map<std::string, std::string> creates;
  std::vector<std::string> steps;  // done so far, in order

  bool Did(const std::string& step) const;
  std::string Get(const std::string& kind) const;  // creates[kind] or ""
};

// How far Begin's write must reach before it returns (LevelDB's WriteOptions::sync).
struct JournalWrite {
  // true: the disk (fsync of the file and the directory): the entry survives a machine
  // crash. false: the kernel's page cache: it survives a kill -9 of the daemon, which is
  // what it is for, and saves two fsyncs, but maybe not a machine crash. Only for
  // operations that a machine crash undoes by itself (a claim: every clone server dies with
  // the machine, and Recover() starts each with the password of its secret file), or whose
  // own durable state tells Recover() the same (a create: its record, synced as `creating`
  // before anything is made).
  bool sync = true;
};

class Journal {
 public:
  // Opens (creating, 0700) the journal directory. Entries are stamped and written through
  // `env`, which must outlive the journal.
  static Result<std::unique_ptr<Journal>> Open(const std::string& dir, Env& env = *Env::Default());

  // Writes the entry (durably unless `write.sync` is false) before the operation starts.
  // Names and values are one line each of at most 1 KiB; op and kinds are [a-z0-9_-]+.
  Result<JournalEntry> Begin(const std::string& op, const std::string& subject,
                             std::map<std::string, std::string> creates, JournalWrite write = {});
  // Records that `entry` finished `step` (durably, before the next one starts).
  Status Step(JournalEntry* entry, const std::string& step);
  // The operation is over (done or undone): the entry goes.
  Status Commit(const JournalEntry& entry);

  // Entries a crash left, oldest first; call before operations start (Recover()), as it
  // removes temporaries of interrupted writes and empty entries (an unsynced Begin a machine
  // crash cut). A file that does not parse is moved aside to <id>.corrupt, logged, and not
  // returned.
  std::vector<JournalEntry> Pending() const;

  // The on-disk form; Parse rejects malformed, oversized or hostile text with InvalidArgument.
  static std::string Serialize(const JournalEntry& entry);
  static Result<JournalEntry> Parse(const std::string& id, const std::string& text);

 private:
  Journal(std::string dir, Env& env) : dir_(std::move(dir)), env_(env) {}
  Status Write(const JournalEntry& entry, JournalWrite write = {});

  std::string dir_;
  Env& env_;
};

}  // namespace zdap::origin
