#!/usr/bin/env bash
# readme_test: every shell command block of README.md runs as written, so that the README
# cannot drift from the programs. Each ```sh block runs where its reader would run it:
#   sandbox  this machine, from the top of the checkout, in a mount namespace of the test's own
#            in which /var/tmp is an empty directory of this run (the walkthrough keeps its
#            origins and project there) and HOME another: outside the namespace nothing but
#            the checkout's own build directories (build/, build-deb/, build-image/) changes
#   server   a throwaway Debian 12 root (tests/packaging/package_root.sh), as root, for the
#            blocks that install the package and write /etc
# Blocks are known by their first command line (WHERE, SKIP below). The blocks of one README
# section ("## ...") that run in one place run in one shell, one after the other, with `set -e`,
# the way one person types them into one terminal: state (cwd, variables, background jobs)
# carries over. A block that is neither in WHERE nor in SKIP fails the test, and so does an
# entry that no longer names a block: a new block is run or explicitly skipped, never forgotten.
#
# The text is run as is but for its ports: 43210 and 43211 become ports reserved for this run
# ($ZDAP_TEST_PORTS from tests/support/with_ports), so that runs side by side never share one.
# The environment supplies what a reader's machine would have: the app image of the compose
# example (CHINOOK_APP_IMAGE=zdap-test/postgres:15, since this machine cannot pull postgres:15),
# a compose project name and a published port of the run's own, the ports of quickstart, and
# ZDAPD_LISTEN for the zdapd that the README starts on its default port.
# Needs root (mount namespace, chroot), dockerd, docker-compose, jq, the test images
# (scripts/build-test-images) and network access to the Debian mirror (apt in the server root).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
readme=$src/README.md
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (a mount namespace, a chroot)"
read -ra ports <<<"${ZDAP_TEST_PORTS:?run this through with_ports (ctest does): it needs reserved ports}"
[ ${#ports[@]} -ge 5 ] || fail "needs 5 reserved ports, got: ${ports[*]}"
for tool in docker docker-compose jq unshare psql; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/test installs it)"
done
docker image inspect zdap-test/postgres:15 >/dev/null 2>&1 ||
  fail "no image zdap-test/postgres:15: run scripts/build-test-images"

# Where each block runs, by its first command line (comment and trailing blanks dropped).
# shellcheck disable=SC2016  # README text, not to expand
declare -A WHERE=(
  ['scripts/quickstart']=sandbox
  ['cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DZDAP_BUILD_TESTS=OFF']=sandbox
  ['ZDAPD_DATA_DIR=/var/tmp/zdap2 zdapd refresh chinook']=sandbox
  ['eval "$(zdap clone chinook -o env)"']=sandbox
  ['packaging/build-deb']=sandbox
  ['apt install ./zdap_*_amd64.deb']=server
  ['mkdir -p /etc/zdap/tls && cd /etc/zdap/tls']=server
  ['zdapd --config /etc/zdap/zdapd.yaml token add alice']=server
  ['zdapd --config /etc/zdap/zdapd.yaml token add db2 --role replicator']=server
)
# Blocks that cannot run here, each with the reason. Keep it short.
declare -A SKIP=(
  ['scripts/test']='the whole suite, of which this test is a part: it would run itself'
  ['curl -sN -H "Authorization: Bearer $TOKEN" https://db1.example.com:43210/v1/events']='an origin of the team section; tests/e2e/dashboard_test follows /v1/events with curl'
  ['sig=$(printf '"'"'%s.%s'"'"' "$TIMESTAMP" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d'"'"' '"'"' -f1)']='a receiver'"'"'s check of one delivery; tests/events/webhook_test verifies signatures'
)

scratch=$(mktemp -d /tmp/zdap-readme.XXXXXX)
project=zdapreadme$$
. "$src/tests/packaging/package_root.sh"

# Every process of the sandbox's mount namespace (zdapd, the database servers it started, a
# quickstart left behind): the processes this test started, found by the namespace they share.
sandbox_pids() {
  local ns d
  ns=$(cat "$scratch/ns" 2>/dev/null) || return 0
  for d in /proc/[0-9]*; do
    [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${d#/proc/}"
  done
  return 0
}
cleanup() {
  local pids tries=0
  while pids=$(sandbox_pids) && [ -n "$pids" ] && [ $tries -lt 50 ]; do
    # shellcheck disable=SC2086  # one pid a word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
    tries=$((tries + 1))
  done
  # The compose project's containers, networks and volumes (its name is this run's).
  local filter=label=com.docker.compose.project=$project
  docker ps -aq --filter "$filter" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network ls -q --filter "$filter" | xargs -r docker network rm >/dev/null 2>&1 || true
  docker volume ls -q --filter "$filter" | xargs -r docker volume rm >/dev/null 2>&1 || true
  package_root_close
  # The namespace's mounts (overlay clones) went with its last process.
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# 1. The blocks: blocks/N holds block N's lines (the fence's indentation removed); blocks/index
# one line per block: N, README line of its first command, section, first command line.
mkdir -p "$scratch/blocks"
awk -v dir="$scratch/blocks" '
  function first_command(line) {
    sub(/[ \t]+#.*$/, "", line); sub(/[ \t\\]+$/, "", line); return line
  }
  /^## / { section = substr($0, 4) }
  !inside && /^[ \t]*```/ {
    fence = $0; sub(/```.*/, "", fence); lang = $0; sub(/^[ \t]*```/, "", lang)
    if (lang !~ /^(sh|bash|shell)?[ \t]*$/) { other = 1; inside = 1; next }
    if (lang ~ /^[ \t]*$/) { printf "untagged %d\n", NR > (dir "/index"); other = 1; inside = 1; next }
    inside = 1; other = 0; n++; start = 0; cmd = ""; next
  }
  inside && $0 ~ "^" fence "```[ \t]*$" {
    if (!other) printf "%d\t%d\t%s\t%s\n", n, start, section, cmd > (dir "/index")
    inside = 0; next
  }
  inside && !other {
    line = $0
    if (substr(line, 1, length(fence)) == fence) line = substr(line, length(fence) + 1)
    print line > (dir "/" n)
    if (cmd == "" && line !~ /^[ \t]*(#|$)/) { cmd = first_command(line); start = NR }
  }
' "$readme"
[ -s "$scratch/blocks/index" ] || fail "found no \`\`\`sh blocks in $readme"
if grep -q '^untagged' "$scratch/blocks/index"; then
  fail "README.md:$(sed -n 's/^untagged //p' "$scratch/blocks/index" | head -n1): a code block" \
    "without a language: tag it \`\`\`sh (then it runs here) or \`\`\`text"
fi

# 2. Where each runs; unknown blocks and stale entries fail.
declare -A seen=()
sessions=()           # "section<TAB>where", in README order
declare -A session_blocks=()
while IFS=$'\t' read -r n line section cmd; do
  seen[$cmd]=1
  if [ -n "${SKIP[$cmd]+x}" ]; then
    echo "readme_test: README.md:$line: skipped ($cmd): ${SKIP[$cmd]}"
    continue
  fi
  where=${WHERE[$cmd]:-}
  [ -n "$where" ] || fail "README.md:$line: a new command block ($cmd): add it to WHERE in" \
    "$0 (sandbox or server), or to SKIP with the reason it cannot run here"
  key="$section"$'\t'"$where"
  [ -n "${session_blocks[$key]+x}" ] || sessions+=("$key")
  session_blocks[$key]+="$n "
done <"$scratch/blocks/index"
for cmd in "${!WHERE[@]}" "${!SKIP[@]}"; do
  [ -n "${seen[$cmd]+x}" ] || fail "README.md has no block starting with '$cmd' any more:" \
    "remove it from $0"
done

# 3. One script per session: its README lines, the ports replaced, and an ERR trap that names
# the README line of a failing command.
write_session() {  # file blocks...
  local file=$1 body="$1.body" map="" lineno=3 n rl
  shift
  : >"$body"
  for n in "$@"; do
    rl=$(awk -F'\t' -v n="$n" '$1 == n { print $2 }' "$scratch/blocks/index")
    # Lines before the first command (comments) count from the fence: good enough for a message.
    while IFS= read -r text; do
      lineno=$((lineno + 1))
      map+="[$lineno]=$rl "
      rl=$((rl + 1))
      printf '%s\n' "$text" | sed "s/43210/${ports[0]}/g; s/43211/${ports[1]}/g" >>"$body"
    done <"$scratch/blocks/$n"
  done
  {
    echo 'set -e'
    echo "ZDAP_README_LINES=($map)"
    # shellcheck disable=SC2016  # expanded by the session's shell
    echo 'trap '\''echo "readme_test: README.md:${ZDAP_README_LINES[$LINENO]:-?}: this command failed (status $?)" >&2'\'' ERR'
    cat "$body"
  } >"$file"
}

# The sandbox's environment: a clean one, with what the reader's machine would give.
mkdir -p "$scratch/home" "$scratch/vartmp"
chmod 1777 "$scratch/vartmp"
sandbox_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME="$scratch/home" USER=root LOGNAME=root LANG=C.UTF-8
  ZDAPD_LISTEN="127.0.0.1:${ports[0]}"  # zdapd's default listen, 43210, is this run's too
  COMPOSE_PROJECT_NAME="$project" CHINOOK_APP_IMAGE=zdap-test/postgres:15
  CHINOOK_PORT="${ports[2]}" ZDAP_QUICKSTART_PORT="${ports[3]}"
  ZDAP_QUICKSTART_PROXY_PORT="${ports[4]}"
  # The real compiler cache (HOME is the sandbox's), shared with build-deb's Release objects.
  CCACHE_DIR="$(ccache --get-config cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")"
  CCACHE_BASEDIR="$src" CCACHE_NOHASHDIR=1)

# shellcheck disable=SC2016  # expanded by the namespace's shell
run_sandbox() {  # script log
  unshare --mount --propagation private -- env -i "${sandbox_env[@]}" bash -c \
    'mount --bind "$1" /var/tmp && readlink /proc/$$/ns/mnt >"$2" && cd "$3" && exec bash "$4"' \
    _ "$scratch/vartmp" "$scratch/ns" "$src" "$1" >"$2" 2>&1
}

run_server() {  # script log
  if [ -z "$root" ]; then
    package_root_open || fail "no Debian 12 root"
    # A server has openssl; the reader answers apt's questions with yes and installs what the
    # README says (Recommends would pull in PostgreSQL, MariaDB, ...).
    root_apt_install openssl || fail "apt-get install openssl in the Debian 12 root"
    printf 'APT::Get::Assume-Yes "true";\nAPT::Install-Recommends "false";\n' \
      >"$root/etc/apt/apt.conf.d/90readme-test"
    # "Copy the .deb to the server."
    cp "$src"/build-deb/zdap_*_amd64.deb "$root/root/" ||
      fail "no build-deb/zdap_*_amd64.deb (the block before builds it)"
    # The root's apt lists may name versions the mirror has replaced since it was made.
    in_root apt-get install -s "$(cd "$root/root" && ls ./zdap_*_amd64.deb)" >/dev/null 2>&1 ||
      in_root apt-get update -q >/dev/null 2>&1 || fail "apt-get update in the Debian 12 root"
  fi
  cp "$1" "$root/tmp/readme-session.sh"
  in_root env HOME=/root DEBIAN_FRONTEND=noninteractive bash -c \
    'cd /root && exec bash /tmp/readme-session.sh' >"$2" 2>&1
}

i=0
for key in "${sessions[@]}"; do
  i=$((i + 1))
  section=${key%%$'\t'*}
  where=${key#*$'\t'}
  # shellcheck disable=SC2086  # block numbers
  write_session "$scratch/session$i.sh" ${session_blocks[$key]}
  echo "readme_test: \"$section\" ($where): running"
  # Into a file, not a pipe: a background job of the session (a zdapd the README starts) would
  # hold a pipe open after a failed block ended the session.
  status=0
  "run_$where" "$scratch/session$i.sh" "$scratch/session$i.log" || status=$?
  cat "$scratch/session$i.log"
  [ "$status" = 0 ] || fail "\"$section\": a block failed as written (its README line is above)"
  case "$section" in
    "Two commands")
      grep -qE '^ +2240$' "$scratch/session$i.log" || fail "quickstart did not print the 2240 invoice lines" ;;
    "Trying it by hand")
      # docker-compose colours its log prefixes even into a file.
      [ "$(sed 's/\x1b\[[0-9;]*m//g' "$scratch/session$i.log" | grep -cE 'app_1 +\| 2240$')" -ge 2 ] ||
        fail "the compose app did not count 2240 invoice lines twice (once per attach)"
      grep -qE '^ +2240$' "$scratch/session$i.log" || fail "psql on the clone did not count 2240 lines" ;;
  esac
done

# README step 4: the sample configuration, with the certificate and tokens the blocks made.
if [ -n "$root" ]; then
  out=$(in_root zdapd --config /etc/zdap/zdapd.yaml check-config 2>&1) ||
    fail "check-config after the README's server steps: $out"
  echo "readme_test: server: $out"
fi
echo "ok: every command block of README.md ran as written (${#sessions[@]} sessions)"
