#!/usr/bin/env bash
# Where the CPU goes from SIGTERM to exit with 10 000 idle keep-alive connections, kernel
# included: `perf record -e cpu-clock` (a software clock, so it works on VMs without hardware
# counters) of the release HTTP fixture, `graceful::http::serve` and plain `axum::serve`, the
# same router, one after the other. Prints each server's exit time and samples, then the
# symbols whose sample counts differ most between the two.
#
#   bash benches/idle_exit_profile.sh
#   CONNS=10000 GRACEFUL_HTTP_REQUEST_GRACE=0s FIXTURE=path bash benches/idle_exit_profile.sh
#
# Needs perf (Debian's linux-perf), python3, and a file-descriptor limit above CONNS.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
conns="${CONNS:-10000}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-idle-profile.XXXXXX")}"
mkdir -p "$out"
command -v perf >/dev/null || { echo "needs perf (apt-get install -y linux-perf)" >&2; exit 1; }

# shellcheck source=benches/fixture.sh
. "$repo/benches/fixture.sh"
fd_limit_for "$conns"
fixture_bin

kill_on_exit

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for server in graceful axum; do
  start_fixture "$server" server="$server" routes=hello drain=20s timeout=30s
  open_idle_connections "$server" 1200
  sleep 1
  perf record -q -e cpu-clock -F 4000 -g -p "$pid" -o "$out/$server.data" 2>/dev/null &
  recorder=$!
  sleep 0.5
  t0=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" || true
  t1=$(date +%s%N)
  wait "$recorder" || true
  wait "$client" || true
  samples=$(perf report -i "$out/$server.data" --stdio 2>/dev/null | sed -n 's/^# Samples: \([0-9]*\).*/\1/p' | head -n1)
  echo "$server: exit $(( (t1 - t0) / 1000000 )) ms, $samples samples at 4000 Hz"
  perf report -i "$out/$server.data" --stdio --no-children --sort sym -g none -F sample,sym 2>/dev/null |
    grep -v '^#' | grep -v '^$' >"$out/$server.syms"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
def read(name):
    d = {}
    for line in open(f"{out}/{name}.syms"):
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].isdigit():
            d[parts[1].strip()] = d.get(parts[1].strip(), 0) + int(parts[0])
    return d
g, a = read("graceful"), read("axum")
print(f"samples: graceful {sum(g.values())}, axum {sum(a.values())}")
print("graceful - axum, graceful, axum, symbol (the 15 largest differences each way)")
order = sorted(set(g) | set(a), key=lambda s: g.get(s, 0) - a.get(s, 0), reverse=True)
for s in order[:15] + ["..."] + order[-15:]:
    if s == "...":
        print("...")
        continue
    print(f"{g.get(s, 0) - a.get(s, 0):+5d} {g.get(s, 0):5d} {a.get(s, 0):5d}  {s[:100]}")
PY
echo "perf data: $out"
