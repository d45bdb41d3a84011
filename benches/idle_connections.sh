#!/usr/bin/env bash
# 10 000 idle keep-alive connections: memory per connection and SIGTERM → exit,
# `graceful::http::serve` against plain `axum::serve` (`with_graceful_shutdown`), the same
# router (`GET /hello`), alternating rounds in the same run.
#
#   bash benches/idle_connections.sh
#   ROUNDS=2 CONNS=10000 bash benches/idle_connections.sh
#
# Needs python3 (the client: asyncio, no package) and a file-descriptor limit above CONNS.
#
# Each round starts the release fixture, reads its RSS (`VmRSS` of /proc/PID/status), opens
# CONNS connections that each send one request, read the answer and then stay idle, reads the
# RSS again (per connection = the difference / CONNS), then sends SIGTERM and times the exit
# (`wait`). graceful keeps an idle connection for `[http] request_grace` (1 s by default) in
# case its next request is on its way, so its exit is expected at grace + closing time.
#
# The CPU-seconds from SIGTERM to exit are the figure that does not move with the machine's
# load: the fixture's threads' CPU time when the signal is sent (/proc/PID/task/*/schedstat)
# subtracted from its total at exit (wait4's rusage, see fixture.sh). Waiting out the grace
# costs no CPU, so this column compares the two servers' shutdown work directly.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
rounds="${ROUNDS:-2}"
conns="${CONNS:-10000}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-idle-conns.XXXXXX")}"
mkdir -p "$out"
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }

# shellcheck source=benches/fixture.sh
. "$repo/benches/fixture.sh"
fd_limit_for "$conns"
fixture_bin

kill_on_exit

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# round NAME SERVER -> prints "rss_before_kib rss_after_kib exit_ms cpu_ms"
round() {
  local name=$1 server=$2
  local pid addr parent cpu_file="$out/$name.cpu"
  start_fixture "$name" server="$server" routes=hello drain=20s timeout=30s
  # One connection first, so that both servers have served a request before the baseline.
  python3 "$repo/benches/idle_client.py" "${addr%:*}" "${addr##*:}" 1 >/dev/null &
  local warm=$!
  sleep 0.5
  kill "$warm" 2>/dev/null || true
  wait "$warm" 2>/dev/null || true
  local before after
  before=$(rss_kib "$pid")
  local client
  open_idle_connections "$name" 1200
  sleep 1
  after=$(rss_kib "$pid")
  local t0 t1 cpu0 cpu1
  cpu0=$(cpu_now "$pid")
  t0=$(date +%s%N)
  kill -TERM "$pid"
  wait "$parent" || true
  t1=$(date +%s%N)
  wait "$client" || true
  read -r cpu1 _ <"$cpu_file"
  echo "$before $after $(( (t1 - t0) / 1000000 )) $(echo "($cpu1 - $cpu0) * 1000 / 1" | bc)"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-9s %12s %12s %14s %12s %12s %s\n' round server "RSS before" "RSS after" "bytes/conn" \
  "exit ms" "exit CPU ms" "load"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order=(graceful axum); else order=(axum graceful); fi
  for server in "${order[@]}"; do
    read -r before after ms cpu < <(round "$server-$r" "$server")
    printf '%-6s %-9s %9s KiB %9s KiB %14s %12s %12s %s\n' "$r" "$server" "$before" "$after" \
      "$(( (after - before) * 1024 / conns ))" "$ms" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "outputs: $out"
