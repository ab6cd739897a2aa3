# Shared by scripts/quickstart and scripts/test. Sourced, not run.

# Packages to build zdap and run it.
ZDAP_BUILD_PACKAGES=(cmake ninja-build g++ ccache pkg-config libboost1.81-dev libboost-json1.81-dev
  libboost-url1.81-dev libboost-program-options1.81-dev libyaml-cpp-dev libssl-dev libfmt-dev
  postgresql-15 postgresql-client-15 curl ca-certificates)

# Each step line shows the seconds since the outermost script started (ZDAP_T0 is inherited by
# the scripts it runs), so a slow CI run's log says which step took the time.
export ZDAP_T0=${ZDAP_T0:-$(date +%s)}
say() { printf '\033[1m==> [%5ss] %s\033[0m\n' "$(($(date +%s) - ZDAP_T0))" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the packages that are missing, with apt-get (as root, or through sudo).
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "packages missing (${missing[*]}); run as root or install sudo"
    sudo=(sudo)
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# Waits until `cmd...` succeeds, at most $1 tenths of a second.
wait_for() {
  local tenths=$1; shift
  for _ in $(seq "$tenths"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# Makes sure a Docker daemon answers on /var/run/docker.sock, installing docker.io and
# starting dockerd when needed. This machine kind cannot reach a registry and has no
# bridge networking: the daemon runs with --iptables=false --bridge=none and every zdap
# container uses the host network. A daemon this function starts keeps running afterwards
# (its log: /var/log/zdap-dockerd.log).
ensure_dockerd() {
  install_packages docker.io
  docker info >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "no Docker daemon is running and starting one needs root"
  say "starting dockerd (--iptables=false --bridge=none)"
  nohup dockerd --iptables=false --bridge=none >/var/log/zdap-dockerd.log 2>&1 &
  wait_for 600 docker info || die "dockerd did not come up in 60 s; see /var/log/zdap-dockerd.log"
}
