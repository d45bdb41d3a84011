#!/usr/bin/env bash
# Failed requests during a rolling restart behind an L4 balancer: HAProxy in `mode tcp` (it
# forwards connections, as a Kubernetes Service does, and cannot retry a request) in front of
# three instances of the release fixture, `wrk -t2 -c32` keep-alive through it while each
# instance in turn gets SIGTERM, exits, and is started again on its port.
#
#   bash benches/rolling_restart_tcp.sh
#   RUNS=2 SERVER=axum bash benches/rolling_restart_tcp.sh   # plain axum::serve instead
#
# Needs haproxy, wrk, curl and socat (`apt-get install -y haproxy wrk curl socat`).
#
# graceful instances run with `readiness_delay=1s`; HAProxy checks `/health/ready` every
# 100 ms (`fall 1`), as in docs/http.md. `axum::serve` has no readiness route and no delay:
# its instances are checked on `/hello`. HAProxy retries nothing (`retries 0`, no
# `redispatch`): a connect an instance refuses reaches wrk as an error. A failed request is any
# wrk socket error (read: written, no response; write; connect to HAProxy; timeout) or non-2xx
# response.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
runs="${RUNS:-2}"
server="${SERVER:-graceful}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-rolling.XXXXXX")}"
mkdir -p "$out"
for tool in haproxy wrk curl socat; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install -y $tool)" >&2; exit 1; }
done

# shellcheck source=benches/fixture.sh
. "$repo/benches/fixture.sh"
fixture_bin

if [ "$server" = axum ]; then check=/hello; args=(server=axum); else check=/health/ready; args=(server=graceful readiness_delay=1s drain=10s timeout=20s); fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

kill_on_exit

# start_instance PORT ID: starts it as a child of this shell (so that `wait` works), its pid
# in $started
start_instance() {
  "$bin" "${args[@]}" routes=all port="$1" id="s$2" >"$out/s$2.$1.$RANDOM.stdout" 2>/dev/null &
  started=$!
  pids+=("$started")
}

up() { # the stats socket shows all three servers UP
  echo "show stat" | socat - "UNIX-CONNECT:$out/admin.sock" 2>/dev/null |
    awk -F, '$1=="be" && $2 ~ /^s/ && $18=="UP"' | wc -l
}

run() {
  local n=$1
  local ports=() ipids=() lb
  for i in 0 1 2; do ports+=("$(free_port)"); done
  lb=$(free_port)
  for i in 0 1 2; do start_instance "${ports[$i]}" "$i"; ipids+=("$started"); done
  cat >"$out/haproxy.cfg" <<EOF
global
    maxconn 4096
    stats socket $out/admin.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 0
frontend fe
    bind 127.0.0.1:$lb
    default_backend be
backend be
    balance roundrobin
    option httpchk GET $check
    http-check expect status 200
    default-server inter 100ms fastinter 100ms downinter 100ms fall 1 rise 1
    server s0 127.0.0.1:${ports[0]} check
    server s1 127.0.0.1:${ports[1]} check
    server s2 127.0.0.1:${ports[2]} check
EOF
  haproxy -db -f "$out/haproxy.cfg" >/dev/null 2>"$out/haproxy.stderr" &
  local hp=$!
  pids+=("$hp")
  for _ in $(seq 1 300); do [ "$(up)" = 3 ] && break; sleep 0.1; done
  [ "$(up)" = 3 ] || { echo "haproxy does not see three UP servers" >&2; exit 1; }
  wrk -t2 -c32 -d24s "http://127.0.0.1:$lb/hello" >"$out/run$n.wrk" 2>&1 &
  local wrk_pid=$!
  sleep 3
  for i in 0 1 2; do
    kill -TERM "${ipids[$i]}"
    local code=0
    wait "${ipids[$i]}" || code=$?
    [ "$code" = 0 ] || echo "run $n: instance s$i exited with $code" >&2
    start_instance "${ports[$i]}" "$i"
    ipids[i]=$started
    for _ in $(seq 1 300); do [ "$(up)" = 3 ] && break; sleep 0.1; done
    [ "$(up)" = 3 ] || { echo "run $n: s$i did not come back UP" >&2; exit 1; }
    sleep 3
  done
  wait "$wrk_pid" || true
  kill -TERM "$hp" "${ipids[@]}" 2>/dev/null || true
  wait "$hp" "${ipids[@]}" 2>/dev/null || true
  local requests errors non2xx
  requests=$(awk '/requests in/ {print $1}' "$out/run$n.wrk")
  errors=$(grep 'Socket errors' "$out/run$n.wrk" | sed 's/^ *//' || true)
  non2xx=$(grep 'Non-2xx' "$out/run$n.wrk" | sed 's/^ *//' || true)
  echo "run $n ($server): $requests requests; ${errors:-Socket errors: none}; ${non2xx:-Non-2xx: none}"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $(seq 1 "$runs"); do run "$n"; done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk outputs: $out"
