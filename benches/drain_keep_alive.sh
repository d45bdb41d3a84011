#!/usr/bin/env bash
# Requests lost at a direct SIGTERM under flat-out keep-alive load: `graceful::http::serve`
# against plain `axum::serve` (`with_graceful_shutdown`), the same router (`GET /hello`),
# alternating rounds in the same run.
#
#   bash benches/drain_keep_alive.sh
#   ROUNDS=3 CONNS=64 SECS=4 bash benches/drain_keep_alive.sh
#
# Needs wrk (`apt-get install -y wrk`).
#
# Each round starts the release fixture (`readiness_delay` 0), runs `wrk -t1 -cCONNS` flat out
# against it, sends SIGTERM after SECS/2 seconds, and reads wrk's socket errors when it ends:
# a "read" error is a request wrk wrote on an open connection that got no response (wrk never
# resends one). "connect" errors are the connects refused once the listener closed: not lost
# requests, only the load going on after the server left.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
rounds="${ROUNDS:-3}"
conns="${CONNS:-64}"
secs="${SECS:-4}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-drain.XXXXXX")}"
mkdir -p "$out"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }

# shellcheck source=benches/fixture.sh
. "$repo/benches/fixture.sh"
fixture_bin

kill_on_exit

# round NAME SERVER -> prints "read write connect requests exit_code"
round() {
  local name=$1 server=$2
  local pid addr
  start_fixture "$name" server="$server" routes=hello drain=10s timeout=30s
  wrk -t1 -c"$conns" -d"${secs}s" "http://$addr/hello" >"$out/$name.wrk" 2>&1 &
  local wrk_pid=$!
  sleep "$(echo "$secs / 2" | bc -l)"
  kill -TERM "$pid"
  local code=0
  wait "$pid" || code=$?
  wait "$wrk_pid" || true
  local errors read=0 write=0 connect=0
  errors=$(grep 'Socket errors' "$out/$name.wrk" || true)
  if [ -n "$errors" ]; then
    connect=$(echo "$errors" | sed -n 's/.*connect \([0-9]*\).*/\1/p')
    read=$(echo "$errors" | sed -n 's/.*read \([0-9]*\).*/\1/p')
    write=$(echo "$errors" | sed -n 's/.*write \([0-9]*\).*/\1/p')
  fi
  local n
  n=$(awk '/requests in/ {print $1}' "$out/$name.wrk")
  echo "$read $write $connect $n $code"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-8s %10s %6s %6s %8s %5s\n' round server requests read write connect exit
declare -A lost=([graceful]=0 [axum]=0)
for r in $(seq 1 "$rounds"); do
  # ABBA: the order alternates from round to round.
  if [ $((r % 2)) -eq 1 ]; then order=(graceful axum); else order=(axum graceful); fi
  for server in "${order[@]}"; do
    read -r rd wr co n code < <(round "$server-$r" "$server")
    lost[$server]=$(( ${lost[$server]} + rd ))
    printf '%-8s %-8s %10s %6s %6s %8s %5s\n' "$r" "$server" "$n" "$rd" "$wr" "$co" "$code"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "requests lost (wrk read errors), $rounds rounds of $conns connections: graceful ${lost[graceful]}, axum::serve ${lost[axum]}"
echo "wrk outputs: $out"
