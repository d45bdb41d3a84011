#!/usr/bin/env bash
# Instructions from SIGTERM to exit: `bench_idle_graceful` (100 no-op resources in 10
# priority classes) against `bench_idle_tokio` (a plain `#[tokio::main]`), the programs of the
# idle-shutdown benchmark (benches/idle_shutdown.rs), counted by callgrind in the same run,
# in paired rounds A B B A. Instruction counts do not move with the machine's load, so this
# figure holds on a busy machine where the wall-clock benchmark does not.
#
#   bash benches/idle_instructions.sh
#   ROUNDS=4 GRACEFUL_BENCH_PROGRAMS=/path/to/dir bash benches/idle_instructions.sh
#
# Needs valgrind (`apt-get install -y valgrind`). Each run starts the program under callgrind
# with instrumentation off, waits for its `ready` line, switches it on
# (`callgrind_control -i on`), sends SIGTERM and reads callgrind's total once the process has
# exited: start-up is not counted, the shutdown and the runtime's teardown are. The callgrind
# files stay in OUT (default: a temporary directory, printed) for `callgrind_annotate`.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
rounds="${ROUNDS:-2}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-idle-instr.XXXXXX")}"
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }

# The programs: release binaries of graceful-benches (the path cargo reports, so a redirected
# target directory is followed), or both taken from $GRACEFUL_BENCH_PROGRAMS.
if [ -n "${GRACEFUL_BENCH_PROGRAMS:-}" ]; then
  dir=$GRACEFUL_BENCH_PROGRAMS
else
  dir=$(dirname "$(cargo build --release -p graceful-benches --bin bench_idle_graceful \
    --bin bench_idle_tokio --message-format=json \
    | sed -n 's/.*"executable":"\([^"]*bench_idle_graceful\)".*/\1/p' | tail -n1)")
fi
for p in bench_idle_graceful bench_idle_tokio; do
  [ -x "$dir/$p" ] || { echo "no $dir/$p (build failed?)" >&2; exit 1; }
done

pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# run PROGRAM TAG -> prints the instructions from SIGTERM to exit
run() {
  local prog=$1 tag=$2
  local log="$out/$tag.stdout" cg="$out/$tag.callgrind"
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$cg" "$dir/$prog" \
    >"$log" 2>"$out/$tag.valgrind" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 600); do
    grep -q '^ready' "$log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^ready' "$log" || { echo "$tag: no ready line (see $out/$tag.valgrind)" >&2; exit 1; }
  callgrind_control -i on "$pid" >/dev/null 2>&1
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || { echo "$tag: exit status $status after SIGTERM" >&2; exit 1; }
  local total
  total=$(sed -n 's/^summary: *//p' "$cg")
  [ -n "$total" ] || total=$(sed -n 's/^totals: *//p' "$cg")
  echo "$total"
}

cat /proc/loadavg | awk '{print "load average: " $1 " " $2 " " $3}'
printf '%-6s %-22s %14s\n' round program "instructions"
declare -A sum=([bench_idle_graceful]=0 [bench_idle_tokio]=0)
for r in $(seq 1 "$rounds"); do
  for prog in bench_idle_graceful bench_idle_tokio bench_idle_tokio bench_idle_graceful; do
    n=$(run "$prog" "$prog-$r-$RANDOM")
    sum[$prog]=$(( ${sum[$prog]} + n ))
    printf '%-6s %-22s %14d\n' "$r" "$prog" "$n"
  done
done
g=$(( ${sum[bench_idle_graceful]} / (2 * rounds) ))
t=$(( ${sum[bench_idle_tokio]} / (2 * rounds) ))
echo "mean of $((2 * rounds)): graceful $g, tokio $t, graceful - tokio $((g - t)), ratio $(echo "scale=2; $g / $t" | bc)"
cat /proc/loadavg | awk '{print "load average: " $1 " " $2 " " $3}'
echo "callgrind files: $out"
