#!/usr/bin/env bash
# proxy_image_test: the zdap/proxyd image (proxy/Dockerfile) runs with `docker run --network
# host`, as user 65534, and passes traffic to a real server on 127.0.0.1; its healthcheck
# subcommand works inside. Builds the image with proxy/build-image when it is missing.
# Needs a Docker daemon (scripts/test: ensure_dockerd) and socat, python3.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^project(zdap VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
image=${ZDAP_PROXY_IMAGE:-zdap/proxyd:$version}
name=zdap-proxy-image-test-$$
fail() { echo "FAIL: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || fail "no Docker daemon (scripts/lib.sh: ensure_dockerd)"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  "$src/proxy/build-image" "$image"
fi
[[ $(docker image inspect -f '{{.Config.User}}' "$image") == 65534:65534 ]] ||
  fail "$image does not run as 65534"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_port=$(free_port)
proxy_port=$(free_port)
work=$(mktemp -d /tmp/zdap-proxy-image-test.XXXXXX)
server_pid=
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A real server: echoes what it gets, upper-cased (so the answer cannot be the proxy's doing).
socat "TCP-LISTEN:$server_port,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'tr a-z A-Z' &
server_pid=$!

docker run -d --rm --name "$name" --network host "$image" --listen "127.0.0.1:$proxy_port" \
  --target "127.0.0.1:$server_port" --check tcp --check-interval 200ms >/dev/null

reply=
for _ in $(seq 1 100); do  # bounded: 100 tries, 0.1 s apart
  reply=$(printf 'hello through the image\n' |
    socat -t 5 - "TCP:127.0.0.1:$proxy_port,connect-timeout=1" 2>/dev/null || true)
  [[ -n $reply ]] && break
  sleep 0.1
done
[[ $reply == "HELLO THROUGH THE IMAGE" ]] || {
  docker logs "$name" >&2 || true
  fail "expected the server's reply through the proxy, got '$reply'"
}

# 1 MiB each way, intact.
head -c 1048576 /dev/urandom > "$work/in"
socat -t 10 - "TCP:127.0.0.1:$proxy_port" < "$work/in" > "$work/out"
[[ $(tr a-z A-Z < "$work/in" | sha256sum) == $(sha256sum < "$work/out") ]] || fail "1 MiB came back changed"

docker exec "$name" /zdap-proxyd healthcheck --listen "127.0.0.1:$proxy_port" ||
  fail "healthcheck subcommand failed inside the container"
[[ $(docker exec "$name" /zdap-proxyd --version) == "zdap-proxyd $version" ]] || fail "--version"
echo "ok: $image passes traffic with --network host"
