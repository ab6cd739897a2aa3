# Shared by the benches that run a zdapd with real clone servers. Sourced, not run; needs
# scripts/lib.sh first.

# Builds zdapd (Release, no sanitizers, no tests) into BUILD_DIR unless it is there already.
bench_build_zdapd() {  # BUILD_DIR
  [ -x "$1/apps/zdapd/zdapd" ] && return 0
  say "building zdapd (Release) into $1"
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZDAP_SANITIZE=OFF \
    -DZDAP_BUILD_TESTS=OFF >/dev/null
  ninja -C "$1" zdapd >/dev/null
}

# The first TCP port in FROM..TO that nothing listens on (zdapd refuses port 0).
bench_free_port() {  # FROM TO
  local p
  for ((p = $1; p <= $2; p++)); do
    [ -z "$(ss -Htln "sport = :$p")" ] && { echo "$p"; return 0; }
  done
  die "no free TCP port in $1-$2"
}

# Stops a process this bench started: SIGTERM, up to 10 s, then SIGKILL; reaps it.
bench_stop_process() {  # PID
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Stops the clone servers of a data dir. Clones outlive zdapd by design; each clone server
# wrote its pid into its run dir: those are stopped (immediate shutdown, the data is thrown
# away), bounded, then by force. Only pids named in those files are signalled.
bench_stop_clone_servers() {  # DATA_DIR
  local pids=() f p alive
  for f in "$1"/run/*/*.pid; do
    [ -f "$f" ] || continue
    p=$(head -1 "$f" 2>/dev/null) || continue
    [[ $p =~ ^[0-9]+$ ]] && pids+=("$p")
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -QUIT "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 100); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

# Unmounts DIR (bounded retries) and removes WORK; leaves WORK in place, saying so, if the
# file system stays mounted.
bench_unmount_and_remove() {  # MOUNT_DIR WORK_DIR
  for _ in $(seq 50); do
    mountpoint -q "$1" || break
    umount "$1" 2>/dev/null && break
    sleep 0.2
  done
  if mountpoint -q "$1"; then
    echo "bench: $1 is still mounted; left $2 in place" >&2
  else
    rm -rf "$2"
  fi
}

# A btrfs file system on an 8 GB sparse loop file, mounted at DIR.
bench_mount_btrfs() {  # IMAGE DIR
  truncate -s 8G "$1"
  mkfs.btrfs -q "$1" >/dev/null 2>&1 || die "mkfs.btrfs $1 failed"
  mkdir -p "$2"
  mount -o loop "$1" "$2" || die "cannot mount $1 (loop devices?)"
  chmod 755 "$2"
}
