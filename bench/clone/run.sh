#!/bin/bash
# Runs clone_bench on btrfs, XFS (reflink=1) and ext4 loop file systems (overlay, copy).
# Usage: bench/clone/run.sh BUILD_DIR [clone_bench options]   (as root; needs btrfs-progs,
# xfsprogs, e2fsprogs). Loop images live in $TMPDIR (default /tmp) and are removed at exit.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [options]}
shift
bench="$build/bench/clone/clone_bench"
[ -x "$bench" ] || { echo "build clone_bench first: ninja -C $build clone_bench" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/zdap-bench-XXXXXX")
cleanup() {
  for m in "$work"/mnt-*; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mk() {  # mk TYPE MKFS...
  local type=$1; shift
  truncate -s 12G "$work/$type.img"
  "$@" "$work/$type.img" >/dev/null 2>&1
  mkdir -p "$work/mnt-$type"
  mount -o loop "$work/$type.img" "$work/mnt-$type"
}
mk btrfs mkfs.btrfs -q -f
mk xfs mkfs.xfs -q -f -m reflink=1
mk ext4 mkfs.ext4 -q -F
mkdir -p "$work/mnt-ext4/overlay" "$work/mnt-ext4/copy"
"$bench" "$@" btrfs="$work/mnt-btrfs" reflink="$work/mnt-xfs" \
  overlay="$work/mnt-ext4/overlay" copy="$work/mnt-ext4/copy"
# Overlay clones are destroyed by the bench; unmount anything left before removing images.
