// The `zfs` driver: volumes, snapshots and clones are ZFS datasets under one parent dataset
// (StorageConfig::dataset, e.g. tank/zdap), handled with the `zfs` command (no libzfs: its
// ABI is not stable across OpenZFS releases; the CLI is).
//
//   <ds>/volumes/<n>    writable file system, mounted at <root>/volumes/<n>
//   <ds>/snapshots/<n>  the sealed volume, renamed, readonly=on, with one ZFS snapshot
//                       <ds>/snapshots/<n>@zdap that clones are made from; mounted at
//                       <root>/snapshots/<n>
//   <ds>/clones/<n>     `zfs clone` of <ds>/snapshots/<s>@zdap, mounted at <root>/clones/<n>
// <root> is the mountpoint of <ds>. Volume names may contain '@', which dataset names cannot:
// it is stored as ':' (not a valid volume-name character, so the mapping is one-to-one), and
// every dataset gets its mountpoint set explicitly so paths keep the real name.
//
// Exact command lines (tested in zfs_commands_test.cc, "zfs-commands"):
//   open      zfs list -Hp -o name,mountpoint <ds>
//             zfs create <ds>/{volumes,snapshots,clones}          (those missing)
//   create    zfs create -o mountpoint=<root>/volumes/<n> <ds>/volumes/<n>
//   seal      zfs rename <ds>/volumes/<v> <ds>/snapshots/<s>      (commit point)
//             zfs set readonly=on <ds>/snapshots/<s>
//             zfs set mountpoint=<root>/snapshots/<s> <ds>/snapshots/<s>
//             zfs snapshot <ds>/snapshots/<s>@zdap
//   clone     zfs clone -o readonly=off -o mountpoint=<root>/clones/<c> <ds>/snapshots/<s>@zdap
//                       <ds>/clones/<c>
//   destroy   zfs destroy <ds>/volumes/<n> | zfs destroy -r <ds>/snapshots/<n> |
//             zfs destroy <ds>/clones/<n>
//   list      zfs list -Hp -o name -t filesystem -d 1 <ds>/<area>
//   clonesof  zfs list -Hp -o name,origin -t filesystem -d 1 <ds>/clones
//   space     zfs get -Hp -o property,value used,available <ds>
//   used      zfs get -Hp -o value used <ds>/<area>/<n>
//   readmeta  zfs get -Hp -o property,value -s local all <ds>/<area>/<n>   (zdap:* rows)
//   writemeta (readmeta, then) zfs inherit zdap:<k> <ds>/<area>/<n>   per key to drop;
//             zfs set zdap:<k>=<v>... <ds>/<area>/<n>                (one atomic set)
// Metadata is kept in user properties zdap:<key>, which `zfs rename` carries from the
// volume to its snapshot and `zfs destroy` removes with the dataset.
//   recover   zfs list -Hp -o name -t snapshot -r <ds>/snapshots
// Each zfs command is atomic; a seal interrupted after its rename is finished on open (a
// snapshot dataset without @zdap gets readonly, mountpoint and @zdap).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/driver.h"

namespace zdap::storage {

// Runs `zfs` with the given arguments (argv[0] is "zfs") and returns its stdout, or an error
// carrying its stderr. Replaceable for tests.
using ZfsRunner = std::function<Result<std::string>(const std::vector<std::string>& argv)>;
// The real one: runs zfs from PATH, no shell.
ZfsRunner SystemZfsRunner();

class ZfsDriver : public Driver {
 public:
  static Result<std::unique_ptr<Driver>> Open(const std::string& dataset, ZfsRunner runner);

  const char* name() const override { return "zfs"; }
  Result<std::string> CreateVolume(const std::string& name) override;
  Status SealVolume(const std::string& volume, const std::string& snapshot) override;
  Result<std::string> Clone(const std::string& snapshot, const std::string& clone) override;
  // Not yet: a zfs clone of a clone's snapshot would tie the clone's life to the branch.
  Status SnapshotClone(const std::string& clone, const std::string& snapshot) override;
  Status DestroyVolume(const std::string& name) override;
  Status DestroySnapshot(const std::string& name) override;
  Status DestroyClone(const std::string& name) override;
  Result<std::vector<std::string>> ListVolumes() const override;
  Result<std::vector<std::string>> ListSnapshots() const override;
  Result<std::vector<std::string>> ListClones() const override;
  Result<std::vector<std::string>> ClonesOf(const std::string& snapshot) const override;
  Result<Space> StoreSpace() const override;
  Status WriteMeta(Area area, const std::string& name, const VolumeMeta& meta) override;
  Result<VolumeMeta> ReadMeta(Area area, const std::string& name) const override;
  Result<uint64_t> UsedBytes(Area area, const std::string& name) const override;

 private:
  ZfsDriver(std::string root, std::string dataset, ZfsRunner runner)
      : Driver(std::move(root)), dataset_(std::move(dataset)), runner_(std::move(runner)) {}

  std::string Dataset(const char* area, const std::string& name) const;
  Result<std::string> Zfs(std::vector<std::string> args) const;
  Result<std::vector<std::string>> List(const char* area) const;
  Result<bool> Exists(const char* area, const std::string& name) const;
  Status Recover();

  std::string dataset_;
  ZfsRunner runner_;
};

// Parsers of `zfs ... -H` output (tab-separated, one line per row), public for tests.
// Rows of `zfs list -H`: fields per line.
std::vector<std::vector<std::string>> ParseZfsTable(const std::string& output);
// `zfs get -Hp -o property,value a,b DS` -> Space from "used" and "available".
Result<Space> ParseZfsSpace(const std::string& output);
// `zfs get -Hp -o property,value -s local all DS` -> the zdap:<key> user properties.
Result<VolumeMeta> ParseZfsUserProps(const std::string& output);
// `zfs get -Hp -o value used DS` -> bytes.
Result<uint64_t> ParseZfsBytes(const std::string& output);

}  // namespace zdap::storage
