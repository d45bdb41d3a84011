#!/usr/bin/env bash
# Instructions from SIGTERM to exit with 10 000 idle keep-alive connections open:
# `graceful::http::serve` against plain `axum::serve` (`with_graceful_shutdown`), the same
# router (`GET /hello`), counted by callgrind in the same run, in paired rounds A B B A.
# Instruction counts do not move with the machine's load, so this figure holds where the
# wall-clock exit time of benches/idle_connections.sh does not.
#
#   bash benches/idle_exit_instructions.sh
#   ROUNDS=1 CONNS=10000 FIXTURE=/path/to/graceful-fixture-http bash benches/idle_exit_instructions.sh
#   GRACEFUL_HTTP_REQUEST_GRACE=0s bash benches/idle_exit_instructions.sh   # no grace
#   CALLGRIND_ARGS="--cache-sim=yes" bash benches/idle_exit_instructions.sh   # and cache misses
#
# Needs valgrind and python3 (the client benches/idle_client.py). Each run starts the
# fixture under callgrind with instrumentation off, opens CONNS connections that each send one
# request, read the answer and stay idle, switches instrumentation on
# (`callgrind_control -i on`), sends SIGTERM and reads callgrind's total once the process has
# exited: start-up and the connections' requests are not counted; the shutdown, closing the
# connections and the runtime's teardown are. The callgrind files stay in OUT (default: a
# temporary directory, printed) for `callgrind_annotate --inclusive=yes`.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
rounds="${ROUNDS:-1}"
conns="${CONNS:-10000}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-idle-exit-instr.XXXXXX")}"
mkdir -p "$out"
for tool in valgrind callgrind_control python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

# shellcheck source=benches/fixture.sh
. "$repo/benches/fixture.sh"
fd_limit_for "$conns"
fixture_bin

kill_on_exit

# run NAME SERVER -> prints the instructions from SIGTERM to exit
run() {
  local name=$1 server=$2
  local pid addr parent cg="$out/$name.callgrind" extra=()
  local launch=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$cg")
  # CALLGRIND_ARGS="--cache-sim=yes" adds simulated cache misses (D1mr, DLmr, …) to the files.
  [ -z "${CALLGRIND_ARGS:-}" ] || read -r -a extra <<<"$CALLGRIND_ARGS"
  [ -z "${CALLGRIND_ARGS:-}" ] || launch+=("${extra[@]}")
  local cpu_file=""
  start_fixture "$name" server="$server" routes=hello drain=20s timeout=60s
  local client
  open_idle_connections "$name" 3000
  sleep 1
  callgrind_control -i on "$pid" >/dev/null 2>&1
  kill -TERM "$pid"
  wait "$pid" || true
  wait "$client" || true
  local total
  total=$(sed -n 's/^summary: *//p' "$cg")
  [ -n "$total" ] || total=$(sed -n 's/^totals: *//p' "$cg")
  echo "${total%% *}"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-9s %14s\n' round server instructions
declare -A sum=([graceful]=0 [axum]=0)
for r in $(seq 1 "$rounds"); do
  for server in graceful axum axum graceful; do
    n=$(run "$server-$r-$RANDOM" "$server")
    sum[$server]=$(( ${sum[$server]} + n ))
    printf '%-6s %-9s %14d\n' "$r" "$server" "$n"
  done
done
g=$(( ${sum[graceful]} / (2 * rounds) ))
a=$(( ${sum[axum]} / (2 * rounds) ))
echo "mean of $((2 * rounds)): graceful $g, axum $a, ratio $(echo "scale=3; $g / $a" | bc)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "callgrind files: $out"
