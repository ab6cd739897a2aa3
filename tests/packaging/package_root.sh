# shellcheck shell=bash
# A throwaway Debian 12 server root for tests that install packages or write /etc: a copy of
# the debootstrap root scripts/build-test-images package-root caches (minbase + systemd, its
# apt lists kept), with /proc mounted. Sourced by tests/packaging/package_test.sh and
# tests/readme/readme_test.sh; needs root (chroot, mount). The debs apt downloads into a root
# are kept in $cache/package-root-debs between runs (each root is thrown away).
#   package_root_open         makes the root; sets $root
#   in_root CMD...            runs CMD in it with a clean environment
#   root_apt_install ARGS...  apt-get install -y --no-install-recommends ARGS in it
#   package_root_close        unmounts and removes it (call it from the caller's EXIT trap)

package_root_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
package_root_cache=${ZDAP_TEST_IMAGE_CACHE:-/var/cache/zdap-test-images}
root=

package_root_open() {
  "$package_root_src/scripts/build-test-images" package-root  # once per machine, then cached
  local tarball="$package_root_cache/zdap-test_package-root_12.tar"
  [ -s "$tarball" ] || { echo "FAIL: no root file system tarball $tarball" >&2; return 1; }
  mkdir -p "$package_root_cache/package-root-debs"
  root=$(mktemp -d /var/tmp/zdap-package-root.XXXXXX)
  tar -C "$root" -xf "$tarball"
  mount -t proc proc "$root/proc"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  find "$package_root_cache/package-root-debs" -name '*.deb' -exec cp {} "$root/var/cache/apt/archives/" \;
}

package_root_close() {
  [ -n "$root" ] || return 0
  if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
  # Never follow a mount out of the chroot.
  mountpoint -q "$root/proc" || rm -rf --one-file-system "$root"
  root=
}

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# apt resolves the Depends; the cached lists may name versions the mirror has replaced since,
# so one `apt-get update` and a second try when the first fails.
root_apt_install() {
  local log="$root/tmp/apt.log"
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@")
  if ! in_root "${install[@]}" >"$log" 2>&1; then
    in_root apt-get update -q >/dev/null 2>&1 || { tail -n 20 "$log" >&2; echo "FAIL: apt-get update" >&2; return 1; }
    in_root "${install[@]}" >"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "FAIL: apt-get install $*" >&2; return 1; }
  fi
  cp -n "$root"/var/cache/apt/archives/*.deb "$package_root_cache/package-root-debs/" 2>/dev/null || true
}
