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
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((conns + 100)) ] || { echo "the fd limit ($(ulimit -n)) is below $conns" >&2; exit 1; }

# shellcheck source=benches/fixture.sh
. "$repo/benches/fixture.sh"
fixture_bin

cat >"$out/client.py" <<'EOF'
import asyncio, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REQ = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

async def one(sem, conns):
    async with sem:
        r, w = await asyncio.open_connection(host, port)
        w.write(REQ)
        head = await r.readuntil(b"\r\n\r\n")
        length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length"))
        await r.readexactly(length)
        conns.append((r, w))

async def main():
    sem, conns = asyncio.Semaphore(256), []
    await asyncio.gather(*(one(sem, conns) for _ in range(n)))
    print(f"open {len(conns)}", flush=True)
    # Idle until the server closes each connection (EOF), then close ours.
    async def wait_close(r, w):
        try:
            await r.read()
        except ConnectionError:
            pass
        w.close()
    await asyncio.gather(*(wait_close(r, w) for r, w in conns))
    print("closed", flush=True)

asyncio.run(main())
EOF

pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# round NAME SERVER -> prints "rss_before_kib rss_after_kib exit_ms cpu_ms"
round() {
  local name=$1 server=$2
  local pid addr parent cpu_file="$out/$name.cpu"
  start_fixture "$name" server="$server" routes=hello drain=20s timeout=30s
  # One connection first, so that both servers have served a request before the baseline.
  python3 "$out/client.py" "${addr%:*}" "${addr##*:}" 1 >/dev/null &
  local warm=$!
  sleep 0.5
  kill "$warm" 2>/dev/null || true
  wait "$warm" 2>/dev/null || true
  local before after
  before=$(rss_kib "$pid")
  python3 "$out/client.py" "${addr%:*}" "${addr##*:}" "$conns" >"$out/$name.client" &
  local client=$!
  for _ in $(seq 1 1200); do
    grep -q '^open' "$out/$name.client" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "^open $conns" "$out/$name.client" || { echo "$name: the client did not open $conns connections" >&2; exit 1; }
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
