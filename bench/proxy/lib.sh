# bench/proxy/lib.sh: the servers and front ends that bench/proxy/run and bench/proxy/profile
# measure, all on 127.0.0.1. Sourced, not run. After bench_start:
#   servers at BASE+0 (iperf3), +1 (PostgreSQL 15, pgbench -i), +2 (conn_rate serve);
#   each front end forwards its ports +0/+1/+2 to them: port_of FRONT OFFSET.
#   Front ends: direct, haproxy (tcp mode, nbthread = cores), socat (fork), zdap
#   (zdap-proxyd, buffered pump), zdap-splice (--pump splice) and epoll-relay (epoll_relay.cc,
#   a minimal relay: what a user-space design can reach at best); with ZDAP_PROXYD_B=path also
#   zdap-b, a second zdap-proxyd build (buffered), to compare two builds in one run.
# Everything started is recorded in bench_pids and stopped by bench_cleanup (trap on EXIT).
# Inputs: ZDAP_PROXYD, ZDAP_PROXYD_RELEASE or a build directory's zdap-proxyd (Release static
# first: build-image/proxy/static, as scripts/test and proxy/build-image build it); CONN_RATE
# and EPOLL_RELAY (else bench/proxy/conn_rate.cc and epoll_relay.cc compiled with -O2 on the
# fly); BENCH_PORT (30500, uses +0..+69), BENCH_SCALE (10).

bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pgbin=/usr/lib/postgresql/15/bin
bench_names=(direct haproxy socat zdap zdap-splice epoll-relay)
bench_pids=()
bench_base=${BENCH_PORT:-30500}  # below the ephemeral range (32768+), above the tests' (20000-29999)
declare -A bench_front=([direct]=$bench_base [haproxy]=$((bench_base + 10))
  [socat]=$((bench_base + 20)) [zdap]=$((bench_base + 30)) [zdap-splice]=$((bench_base + 40))
  [zdap-b]=$((bench_base + 50)) [epoll-relay]=$((bench_base + 60)))
if [[ -n ${ZDAP_PROXYD_B:-} ]]; then
  [[ -x $ZDAP_PROXYD_B ]] || die "ZDAP_PROXYD_B=$ZDAP_PROXYD_B is not executable"
  bench_names+=(zdap-b)
fi

die() {
  echo "bench/proxy: $*" >&2
  exit 2
}

port_of() { echo $((bench_front[$1] + $2)); }

# The first executable of: $var, build-image's static binary, the usual build directories.
find_built() {  # var relpath
  local var=$1 rel=$2 c
  if [[ -n ${!var:-} ]]; then
    [[ -x ${!var} ]] || die "$var=${!var} is not executable"
    echo "${!var}"
    return
  fi
  for c in build-image/proxy/static/zdap-proxyd build-release/$rel build-proxy-rel/$rel build/$rel; do
    [[ $c == */"${rel##*/}" && -x $bench_here/$c ]] && { echo "$bench_here/$c"; return; }
  done
  return 0
}

bench_cleanup() {
  local p
  for p in "${bench_pids[@]}"; do kill "$p" 2> /dev/null || true; done
  if [[ -n ${bench_work:-} && -f $bench_work/pg/postmaster.pid ]]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$bench_work/pg" -m immediate stop > /dev/null 2>&1 || true
  fi
  wait 2> /dev/null || true
  [[ -n ${bench_work:-} ]] && rm -rf "$bench_work"
  return 0
}

wait_port() {  # bounded wait until 127.0.0.1:$1 accepts
  local _
  for _ in $(seq 1 400); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2).close()" \
      2> "$bench_work/wait.err" && return 0
    sleep 0.05
  done
  echo "bench/proxy: port $1 never accepted: $(tail -1 "$bench_work/wait.err")" >&2
  local log
  for log in "$bench_work"/*.log; do
    [[ -s $log ]] && { echo "--- ${log##*/}:"; tail -5 "$log"; } >&2
  done
  exit 1
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

rss_mib() { awk '/VmRSS/ {printf "%.1f\n", $2 / 1024}' "/proc/$1/status"; }

bench_start() {
  proxyd=${ZDAP_PROXYD:-${ZDAP_PROXYD_RELEASE:-}}
  [[ -n $proxyd ]] || proxyd=$(find_built ZDAP_PROXYD proxy/zdap-proxyd)
  [[ -x ${proxyd:-} ]] || die "no zdap-proxyd; build one (proxy/build-image) or set ZDAP_PROXYD"
  # Not a build directory's conn_rate: build/ is usually a sanitizer build, whose client would
  # cost more CPU per connection and skew the CPU figures.
  conn_rate=${CONN_RATE:-}
  [[ -z $conn_rate || -x $conn_rate ]] || die "CONN_RATE=$conn_rate is not executable"
  epoll_relay=${EPOLL_RELAY:-}
  [[ -z $epoll_relay || -x $epoll_relay ]] || die "EPOLL_RELAY=$epoll_relay is not executable"
  local t
  for t in iperf3 haproxy socat python3 runuser pgrep "$pgbin/initdb" "$pgbin/pg_ctl" "$pgbin/pgbench"; do
    command -v "$t" > /dev/null || die "needs $t (apt-get install iperf3 haproxy socat postgresql-15)"
  done
  [[ $(id -u) == 0 ]] || die "run as root (PostgreSQL runs as postgres)"
  bench_work=$(mktemp -d /tmp/zdap-bench-proxy.XXXXXX)
  chmod 755 "$bench_work"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  if [[ -z $conn_rate ]]; then # one file, compiled optimized in a second
    c++ -O2 -std=c++20 -pthread -o "$bench_work/conn_rate" "$bench_here/bench/proxy/conn_rate.cc"
    conn_rate=$bench_work/conn_rate
  fi
  if [[ -z $epoll_relay ]]; then
    c++ -O2 -std=c++20 -pthread -o "$bench_work/epoll_relay" "$bench_here/bench/proxy/epoll_relay.cc"
    epoll_relay=$bench_work/epoll_relay
  fi
  local base=$bench_base w=$bench_work p
  for p in $(seq "$base" $((base + 69))); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1',$p),0.2).close()" 2> /dev/null; then
      die "127.0.0.1:$p is in use (another benchmark?); set BENCH_PORT to a free range of 70"
    fi
  done
  iperf3 -s -p "$base" > "$w/iperf3.log" 2>&1 &
  bench_pids+=($!)
  "$conn_rate" serve $((base + 2)) > "$w/conn_rate.log" 2>&1 &
  bench_pids+=($!)
  conn_serve_pid=$!
  mkdir "$w/pg" "$w/pgrun"
  chown postgres: "$w/pg" "$w/pgrun"
  runuser -u postgres -- "$pgbin/initdb" -D "$w/pg" -A trust -U postgres > "$w/initdb.log" 2>&1 ||
    { cat "$w/initdb.log" >&2; exit 1; }
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$w/pg" -l "$w/pgrun/pg.log" -w -o \
    "-p $((base + 1)) -k $w/pgrun -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off" \
    start > /dev/null || { cat "$w/pgrun/pg.log" >&2; exit 1; }
  runuser -u postgres -- "$pgbin/pgbench" -i -q -s "${BENCH_SCALE:-10}" -h 127.0.0.1 \
    -p $((base + 1)) -U postgres postgres > "$w/pgbench-init.log" 2>&1 ||
    { cat "$w/pgbench-init.log" >&2; exit 1; }

  local i
  {
    echo "global"
    echo "  nbthread $(nproc)"
    echo "  maxconn 8000"
    echo "defaults"
    echo "  mode tcp"
    echo "  timeout connect 5s"
    echo "  timeout client 1h"
    echo "  timeout server 1h"
    for i in 0 1 2; do
      echo "listen bench$i"
      echo "  bind 127.0.0.1:$(port_of haproxy $i)"
      echo "  server s1 127.0.0.1:$((base + i))"
    done
  } > "$w/haproxy.cfg"
  haproxy -f "$w/haproxy.cfg" -db > "$w/haproxy.log" 2>&1 &
  bench_pids+=($!)
  haproxy_pid=$!
  for i in 0 1 2; do
    socat "TCP-LISTEN:$(port_of socat $i),fork,reuseaddr,backlog=1024" \
      "TCP:127.0.0.1:$((base + i))" > /dev/null 2>&1 &
    bench_pids+=($!)
  done
  "$epoll_relay" "$(port_of epoll-relay 0):$base" "$(port_of epoll-relay 1):$((base + 1))" \
    "$(port_of epoll-relay 2):$((base + 2))" > "$bench_work/epoll-relay.log" 2>&1 &
  bench_pids+=($!)
  epoll_relay_pid=$!
  local front pump
  local bin
  for front in "${bench_names[@]}"; do
    [[ $front == zdap* ]] || continue
    pump=buffered bin=$proxyd
    [[ $front == zdap-splice ]] && pump=splice
    [[ $front == zdap-b ]] && bin=$ZDAP_PROXYD_B
    {
      echo "log_level: warn"
      echo "listeners:"
      for i in 0 1 2; do
        echo "  - listen: \"127.0.0.1:$(port_of $front $i)\""
        echo "    targets: [\"127.0.0.1:$((base + i))\"]"
        echo "    check: {kind: none}"
        echo "    pump: $pump"
      done
    } > "$w/$front.yaml"
    "$bin" --config "$w/$front.yaml" > "$w/$front.log" 2>&1 &
    bench_pids+=($!)
    [[ $front == zdap ]] && zdap_pid=$!
    [[ $front == zdap-b ]] && zdap_b_pid=$!
    [[ $front == zdap-splice ]] && zdap_splice_pid=$!
  done
  for front in "${bench_names[@]}"; do
    for i in 0 1 2; do wait_port "$(port_of "$front" $i)"; done
  done
  return 0
}

# Measurements: each prints one number (empty on failure; the reason goes to $bench_work/*.err).
measure_iperf() {  # port streams seconds -> Gbit/s received
  iperf3 -c 127.0.0.1 -p "$1" -P "$2" -t "$3" -J 2>> "$bench_work/iperf3.err" |
    python3 -c "import json,sys; print('%.2f' % (json.load(sys.stdin)['end']['sum_received']['bits_per_second']/1e9))" \
      2>> "$bench_work/iperf3.err" || true
}

measure_tps() {  # port seconds clients [extra pgbench flags...] -> TPS
  local port=$1 secs=$2 clients=$3
  shift 3
  runuser -u postgres -- "$pgbin/pgbench" -S -n -c "$clients" -j 2 -T "$secs" "$@" -h 127.0.0.1 \
    -p "$port" -U postgres postgres 2>> "$bench_work/pgbench.err" |
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1 | awk '{printf "%.0f\n", $1}'
}

measure_conn_rate() {  # port seconds [connections per round] -> rounds (connections)/s
  "$conn_rate" client "$1" "$2" 4 "${3:-1}" 2>> "$bench_work/conn_rate.err" || true
}

front_pid() {  # front -> the pid whose CPU time is the front end's (none for direct and socat)
  case $1 in
    haproxy) echo "$haproxy_pid" ;;
    zdap) echo "$zdap_pid" ;;
    zdap-b) echo "${zdap_b_pid:-}" ;;
    zdap-splice) echo "$zdap_splice_pid" ;;
    epoll-relay) echo "$epoll_relay_pid" ;;
  esac
}

cpu_ticks() {  # pid -> user + system clock ticks of the whole process (0 without a pid)
  if [[ -n ${1:-} ]]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}

# measure_conn_rate, and the CPU time it cost per round: the client's (its rusage, through
# bash's time), the conn_rate server's and the front end's (its pid's ticks in /proc; none for
# direct), appended to $bench_work/conn_cpu.tsv as "front rounds/s client_us server_us proxy_us".
# The kernel's TCP work is charged to the process in whose context it runs, the loopback's
# softirq included (tick accounting), so the three add up to the round's cost on the machine.
measure_conn_cpu() {  # front port seconds connections-per-round pid-of-front -> rounds/s
  local s0 p0 s1 p1 rate times hz
  hz=$(getconf CLK_TCK)
  s0=$(cpu_ticks "$conn_serve_pid") p0=$(cpu_ticks "$5")
  times=$({
    TIMEFORMAT='%U %S'
    time "$conn_rate" client "$2" "$3" 4 "$4" > "$bench_work/conn.out" 2>> "$bench_work/conn_rate.err"
  } 2>&1) || true
  s1=$(cpu_ticks "$conn_serve_pid") p1=$(cpu_ticks "$5")
  rate=$(head -1 "$bench_work/conn.out")
  [[ -n $rate && $rate != 0 ]] || return 0
  echo "$rate"
  python3 -c "import sys; r = $rate * $3; u, s = map(float, '$times'.split()[-2:])
print('$1\t$rate\t%.1f\t%.1f\t%.1f' % ((u + s) * 1e6 / r, ($s1 - $s0) * 1e6 / $hz / r,
      ($p1 - $p0) * 1e6 / $hz / r))" >> "$bench_work/conn_cpu.tsv"
}
