#!/usr/bin/env bash
# package_test: the Debian package (packaging/build-deb) installs with apt-get on a clean
# Debian 12 root (a debootstrap chroot: scripts/build-test-images package-root), and there
#   - zdapd, zdap and zdap-proxyd answer --version with the project version;
#   - /etc/zdap/zdapd.yaml is a conffile (a reinstall keeps edits), and the whole sample loads with
#     `zdapd check-config` once `zdapd token add` has made its tokens file;
#   - `systemd-analyze verify` accepts zdapd.service as installed;
#   - removing the package leaves /var/lib/zdap and stops nothing that is not there.
# Usage: package_test.sh VERSION. The package: $ZDAP_DEB, else build-deb/zdap_VERSION_<arch>.deb,
# built with packaging/build-deb when missing. Needs root (chroot, mount), debootstrap.
# shellcheck disable=SC2016  # ${Status}, $MAINPID: dpkg-query formats and unit text, not shell
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
version=${1:?usage: package_test.sh VERSION}
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (chroot, mount)"

deb=${ZDAP_DEB:-$src/build-deb/zdap_${version}_$(dpkg --print-architecture).deb}
if [ ! -s "$deb" ]; then
  deb=$("$src/packaging/build-deb")
fi
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "$deb is not version $version"

. "$src/tests/packaging/package_root.sh"
trap package_root_close EXIT
package_root_open || fail "no Debian 12 root"
cp "$deb" "$root/tmp/zdap.deb"
root_apt_install /tmp/zdap.deb || fail "apt-get install ./zdap.deb"
[[ $(in_root dpkg-query -W -f='${Status}' zdap) == "install ok installed" ]] ||
  fail "dpkg does not list zdap as installed"

for program in zdapd zdap zdap-proxyd; do
  got=$(in_root "$program" --version) || fail "$program --version failed: $got"
  [[ $got == "$program $version" ]] || fail "$program --version printed '$got'"
done
[[ $(in_root zdapd version) == "zdapd $version" ]] || fail "zdapd version"
[ -x "$root/usr/sbin/zdapd" ] || fail "zdapd is not in /usr/sbin"
for f in usr/share/bash-completion/completions/zdap usr/share/zsh/vendor-completions/_zdap \
  usr/share/fish/vendor_completions.d/zdap.fish; do
  grep -q zdap "$root/$f" || fail "no completion script /$f"
done

in_root dpkg-query -W -f='${Conffiles}\n' zdap | grep -q '^ /etc/zdap/zdapd.yaml ' ||
  fail "/etc/zdap/zdapd.yaml is not a conffile"
[ -d "$root/etc/zdap/resources" ] || fail "no /etc/zdap/resources"
for f in zdapd.service:lib/systemd/system zdapd.yaml:etc/zdap; do
  cmp -s "$src/packaging/${f%%:*}" "$root/${f#*:}/${f%%:*}" ||
    fail "$deb holds another ${f%%:*} than packaging/: rebuild it (packaging/build-deb)"
done

# The whole sample, as an operator sets it up (README "Running an origin for a team"): a token
# made with the installed zdapd (only its hash is stored, 0600), then check-config.
token=$(in_root zdapd --config /etc/zdap/zdapd.yaml token add alice 2>/dev/null) ||
  fail "zdapd token add alice with the sample's tokens_file"
[[ ${#token} == 64 ]] || fail "token add printed '${token}', not a 64-hex token"
[[ $(stat -c %a "$root/etc/zdap/tokens.yaml") == 600 ]] || fail "tokens file is not 0600"
! grep -q "$token" "$root/etc/zdap/tokens.yaml" || fail "the tokens file holds the token itself"
out=$(in_root zdapd --config /etc/zdap/zdapd.yaml check-config 2>&1) || fail "sample: $out"
[[ $out == "ok: 0 resource(s) in /etc/zdap; listen 0.0.0.0:43210; data_dir /var/lib/zdap" ]] ||
  fail "check-config of the sample printed '$out'"

# The unit as installed, with systemd's own checks (paths, options, dependencies).
out=$(in_root systemd-analyze verify --man=no /lib/systemd/system/zdapd.service 2>&1) ||
  fail "systemd-analyze verify: $out"
! grep -q 'zdapd.service' <<<"$out" || fail "systemd-analyze verify warns: $out"
for key in 'KillMode=process' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
  'ExecStart=/usr/sbin/zdapd --config /etc/zdap/zdapd.yaml serve' 'StateDirectory=zdap'; do
  grep -qxF "$key" "$root/lib/systemd/system/zdapd.service" || fail "the unit lacks $key"
done

# Installing again (as an upgrade does) keeps the operator's edits of the conffile.
echo '# edited by the operator' >>"$root/etc/zdap/zdapd.yaml"
in_root env DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/zdap.deb >"$root/tmp/dpkg.log" 2>&1 ||
  { tail -n 20 "$root/tmp/dpkg.log" >&2; fail "dpkg -i over the installed package"; }
tail -n 1 "$root/etc/zdap/zdapd.yaml" | grep -qx '# edited by the operator' ||
  fail "reinstalling replaced the edited /etc/zdap/zdapd.yaml"

# Removal: the programs go, the data dir stays (it may hold clones).
mkdir -p "$root/var/lib/zdap/store"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q zdap >"$root/tmp/apt.log" 2>&1 ||
  { tail -n 20 "$root/tmp/apt.log" >&2; fail "apt-get purge zdap"; }
[ ! -e "$root/usr/sbin/zdapd" ] || fail "zdapd left behind after purge"
[ -d "$root/var/lib/zdap/store" ] || fail "purge removed /var/lib/zdap"
echo "ok: zdap $version installs on Debian 12, runs, and its unit verifies"
