// bench/clone: clone and destroy times and the space of a fresh clone, per storage driver,
// for templates laid out like a PostgreSQL data directory (1 GB segment files plus many
// small files), beside `cp -a` of the same tree (issue 4, "Benchmark").
//
//   clone_bench [--sizes-mb 100,2048] [--runs 10] [--copy-runs 3] DRIVER=DIR...
//
// Each DIR must be on a file system the driver supports (see run.sh, which makes loop
// file systems). Prints a Markdown table with one row per driver and template size, then
// the 2 GB / 100 MB ratios and issue 4's goals (clone <= 50 ms and within 1.2x of the small
// template; a fresh clone <= 1 MiB beyond metadata) for the copy-on-write drivers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/log.h"
#include "core/subprocess.h"
#include "storage/driver.h"
#include "storage/store_layout.h"

namespace {

using Clock = std::chrono::steady_clock;
using zdap::storage::Driver;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Die(const std::string& what) {
  std::fprintf(stderr, "clone_bench: %s\n", what.c_str());
  std::exit(1);
}

void WriteRandomFile(const std::string& path, uint64_t bytes, std::mt19937_64& rng) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("create " + path + ": " + std::strerror(errno));
  std::vector<uint64_t> buf((1 << 20) / 8);
  while (bytes > 0) {
    for (auto& w : buf) w = rng();
    size_t n = std::min<uint64_t>(bytes, buf.size() * 8);
    if (::write(fd, buf.data(), n) != static_cast<ssize_t>(n)) Die("write " + path);
    bytes -= n;
  }
  ::close(fd);
}

// A PostgreSQL-like data dir: base/16384/<relfilenode>[.N] segments of at most 1 GB holding
// `mb` MiB in all, 300 small catalog files, global/, pg_wal/ with one 16 MiB segment.
void FillTemplate(const std::string& dir, uint64_t mb) {
  std::mt19937_64 rng(42);
  for (const char* sub : {"/base", "/base/16384", "/global", "/pg_wal"}) {
    if (::mkdir((dir + sub).c_str(), 0700) != 0) Die("mkdir " + dir + sub);
  }
  for (int i = 0; i < 300; ++i) {
    WriteRandomFile(dir + "/base/16384/" + std::to_string(1000 + i), 8192, rng);
  }
  WriteRandomFile(dir + "/global/1262", 8192, rng);
  WriteRandomFile(dir + "/pg_wal/000000010000000000000001", 16 << 20, rng);
  uint64_t left = mb << 20;
  for (int seg = 0; left > 0; ++seg) {
    uint64_t n = std::min<uint64_t>(left, uint64_t{1} << 30);
    std::string name = dir + "/base/16384/24576" + (seg ? "." + std::to_string(seg) : "");
    WriteRandomFile(name, n, rng);
    left -= n;
  }
  ::chmod(dir.c_str(), 0700);
}

uint64_t UsedBytes(const std::string& path) {
  ::sync();
  auto space = zdap::storage::SpaceOf(path);
  if (!space.ok()) Die(space.status().ToString());
  return space->total_bytes - space->free_bytes;
}

std::string GoalText(bool fast, bool flat, bool small_clone) {
  std::string out = fast && flat && small_clone ? "met" : "NOT met:";
  if (!fast) out += " slower than 50 ms;";
  if (!flat) out += " more than 1.2x;";
  if (!small_clone) out += " fresh clone > 1 MiB;";
  return out;
}

struct Row {
  std::string driver;
  uint64_t mb = 0;
  int runs = 0;
  double clone_ms = 0, destroy_ms = 0;
  double exclusive_kib = 0;  // Driver::UsedBytes of a fresh clone (median)
  double df_kib = 0;         // statvfs difference per fresh clone
  double cp_ms = 0;          // cp -a of the same tree, with sync
};

Row Bench(const std::string& driver_name, const std::string& dir, uint64_t mb, int runs) {
  zdap::storage::StorageConfig config;
  config.driver = driver_name;
  config.path = dir + "/store-" + std::to_string(mb);
  auto opened = zdap::storage::OpenStore(config);
  if (!opened.ok()) Die(opened.status().ToString());
  Driver& d = **opened;
  auto vol = d.CreateVolume("template");
  if (!vol.ok()) Die(vol.status().ToString());
  FillTemplate(*vol, mb);
  if (auto st = d.SealVolume("template", "t@20261122T000000Z"); !st.ok()) Die(st.ToString());

  uint64_t used_before = UsedBytes(dir);
  std::vector<double> clone_ms, destroy_ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    auto c = d.Clone("t@20261122T000000Z", "c" + std::to_string(i));
    clone_ms.push_back(Ms(Clock::now() - t0));
    if (!c.ok()) Die(c.status().ToString());
  }
  uint64_t used_after = UsedBytes(dir);
  double per_clone_kib =
      used_after > used_before ? double(used_after - used_before) / runs / 1024 : 0;
  std::vector<double> exclusive_kib;
  for (int i = 0; i < runs; ++i) {
    auto used = d.UsedBytes(zdap::storage::Area::kClone, "c" + std::to_string(i));
    if (!used.ok()) Die(used.status().ToString());
    exclusive_kib.push_back(double(*used) / 1024);
  }
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    if (auto st = d.DestroyClone("c" + std::to_string(i)); !st.ok()) Die(st.ToString());
    destroy_ms.push_back(Ms(Clock::now() - t0));
  }

  // cp -a of the same tree on the same file system, once, for contrast.
  std::string cp_target = dir + "/cp-a-" + std::to_string(mb);
  zdap::SpawnOptions cp;
  cp.argv = {"cp", "-a", "--reflink=never", d.SnapshotPath("t@20261122T000000Z"), cp_target};
  auto t0 = Clock::now();
  auto ran = zdap::Run(cp);
  ::sync();
  double cp_ms = Ms(Clock::now() - t0);
  if (!ran.ok() || !ran->ok()) Die("cp -a failed");
  (void)zdap::RemoveTree(cp_target);

  if (auto st = d.DestroySnapshot("t@20261122T000000Z"); !st.ok()) Die(st.ToString());
  Row row{d.name(),      mb,   runs, Median(clone_ms), Median(destroy_ms), Median(exclusive_kib),
          per_clone_kib, cp_ms};
  std::printf("| %-8s | %6llu MiB | %4d | %10.2f | %10.2f | %12.1f | %12.1f | %10.0f | %8.0fx |\n",
              row.driver.c_str(), static_cast<unsigned long long>(mb), runs, row.clone_ms,
              row.destroy_ms, row.exclusive_kib, row.df_kib, cp_ms, cp_ms / row.clone_ms);
  std::fflush(stdout);
  return row;
}

// Ratios of the largest template to the smallest, and issue 4's goals.
void PrintRatios(const std::vector<Row>& rows) {
  std::map<std::string, std::vector<const Row*>> by_driver;
  for (const Row& r : rows) by_driver[r.driver].push_back(&r);
  std::printf(
      "\n| driver   | sizes | clone ratio | destroy ratio | cp -a ratio | goal: clone <= 50 ms, "
      "<= 1.2x, fresh clone <= 1 MiB |\n|---|---|---|---|---|---|\n");
  for (const auto& [driver, list] : by_driver) {
    if (list.size() < 2) continue;
    const Row& small = *list.front();
    const Row& big = *list.back();
    double clone_ratio = big.clone_ms / small.clone_ms;
    std::string goal = "n/a (full copy, for contrast)";
    if (driver != "copy") {
      bool fast = big.clone_ms <= 50;
      bool flat = clone_ratio <= 1.2;
      bool small_clone = big.exclusive_kib <= 1024 && small.exclusive_kib <= 1024;
      goal = GoalText(fast, flat, small_clone);
    }
    std::printf("| %-8s | %llu/%llu MiB | %10.2fx | %12.2fx | %10.2fx | %s |\n", driver.c_str(),
                static_cast<unsigned long long>(big.mb), static_cast<unsigned long long>(small.mb),
                clone_ratio, big.destroy_ms / small.destroy_ms, big.cp_ms / small.cp_ms,
                goal.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  zdap::log::SetLevel(zdap::log::Level::kWarn);
  std::vector<uint64_t> sizes = {100, 2048};
  int runs = 10, copy_runs = 3;
  std::vector<std::pair<std::string, std::string>> targets;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes-mb" && i + 1 < argc) {
      sizes.clear();
      std::string list = argv[++i];
      for (size_t p = 0; p < list.size();) {
        size_t c = list.find(',', p);
        sizes.push_back(std::stoull(list.substr(p, c - p)));
        p = c == std::string::npos ? list.size() : c + 1;
      }
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::stoi(argv[++i]);
    } else if (a == "--copy-runs" && i + 1 < argc) {
      copy_runs = std::stoi(argv[++i]);
    } else if (auto eq = a.find('='); eq != std::string::npos) {
      targets.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    } else {
      Die("usage: clone_bench [--sizes-mb 100,2048] [--runs 10] [--copy-runs 3] DRIVER=DIR...");
    }
  }
  std::printf(
      "| driver   | template   | runs | clone ms (median) | destroy ms (median) | "
      "fresh clone KiB (UsedBytes) | fresh clone KiB (df) | cp -a ms | cp -a / clone |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::vector<Row> rows;
  for (const auto& [driver, dir] : targets) {
    for (uint64_t mb : sizes)
      rows.push_back(Bench(driver, dir, mb, driver == "copy" ? copy_runs : runs));
  }
  PrintRatios(rows);
  return 0;
}
