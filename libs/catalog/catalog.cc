#include "catalog/catalog.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "core/file_util.h"
#include "core/log.h"
#include "core/names.h"

namespace zdap::catalog {

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& dir) {
  ZDAP_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::unique_ptr<Catalog> c(new Catalog(dir));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string f = e.path().filename().string();
    if (f.size() <= 5 || f.compare(f.size() - 5, 5, ".json") != 0 || f[0] == '.') continue;
    std::string id = f.substr(0, f.size() - 5);
    auto text = ReadFile(e.path().string(), 1u << 20);
    Result<CloneRecord> rec = text.ok() ? ParseRecord(*text) : Result<CloneRecord>(text.status());
    if (!rec.ok() || rec->id != id) {
      std::string aside = e.path().string() + ".corrupt";
      log::Error("catalog: {} is unreadable ({}); moved aside to {}", e.path().string(),
                 rec.ok() ? "id does not match file name" : rec.status().message(), aside);
      std::filesystem::rename(e.path(), aside, ec);
      continue;
    }
    c->clones_[id] = std::move(rec).value();
  }
  if (ec) return IoError(fmt::format("read catalog {}: {}", dir, ec.message()));
  return c;
}

Status Catalog::Persist(const CloneRecord& record) {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", record.id));
  return WriteFileAtomic(PathOf(record.id), SerializeRecord(record), 0600);
}

Status Catalog::Insert(const CloneRecord& record) {
  std::lock_guard writing(write_mu_);
  {
    std::lock_guard lock(mu_);
    if (clones_.count(record.id) != 0) {
      return Conflict(fmt::format("clone '{}' already exists", record.id));
    }
  }
  ZDAP_RETURN_IF_ERROR(Persist(record));
  std::lock_guard lock(mu_);
  clones_[record.id] = record;
  return Status::Ok();
}

Status Catalog::Update(const CloneRecord& record) {
  std::lock_guard writing(write_mu_);
  {
    std::lock_guard lock(mu_);
    if (clones_.count(record.id) == 0) {
      return NotFound(fmt::format("clone '{}' not found", record.id));
    }
  }
  ZDAP_RETURN_IF_ERROR(Persist(record));
  std::lock_guard lock(mu_);
  clones_[record.id] = record;
  return Status::Ok();
}

Status Catalog::Remove(const std::string& id) {
  std::lock_guard writing(write_mu_);
  if (::unlink(PathOf(id).c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("unlink " + PathOf(id), errno);
  }
  std::lock_guard lock(mu_);
  clones_.erase(id);
  return Status::Ok();
}

std::optional<CloneRecord> Catalog::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = clones_.find(id);
  if (it == clones_.end()) return std::nullopt;
  return it->second;
}

std::vector<CloneRecord> Catalog::List() const {
  std::lock_guard lock(mu_);
  std::vector<CloneRecord> out;
  out.reserve(clones_.size());
  for (const auto& [id, r] : clones_) out.push_back(r);
  return out;
}

bool Catalog::PortInUse(int port) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, r] : clones_) {
    if (r.port == port) return true;
  }
  return false;
}

}  // namespace zdap::catalog
