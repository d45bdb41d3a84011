# Shared by the HTTP drain benchmarks (sourced, not run): the release HTTP fixture of
# tests-integration, and starting it until it prints its address.

# kill_on_exit: every pid the script adds to $pids is killed (SIGKILL) when the script exits.
kill_on_exit() {
  pids=()
  trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done' EXIT
}

# fd_limit_for N: raises the file-descriptor limit to the hard limit; exits unless it is then
# above N (plus 100 for the rest of the process).
fd_limit_for() {
  ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" -gt $(($1 + 100)) ] || { echo "the fd limit ($(ulimit -n)) is below $1" >&2; exit 1; }
}

# fixture_bin: the fixture binary in $bin ($FIXTURE when set, else a release build).
fixture_bin() {
  if [ -n "${FIXTURE:-}" ]; then
    bin=$FIXTURE
  else
    bin=$(cargo build --release -p graceful-tests-integration --features axum \
      --bin graceful-fixture-http --message-format=json |
      sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
  fi
  [ -x "$bin" ] || { echo "no fixture binary (build failed?)" >&2; exit 1; }
}

# The parent `start_fixture` uses when $cpu_file is set: runs the command, writes its pid to
# the second argument and, once it has exited and been reaped, its CPU-seconds (user + system,
# every thread, from wait4's rusage: "total user system minor-faults voluntary-switches
# involuntary-switches") to the first.
rusage_py='
import os, subprocess, sys
cpu, pidfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
child = subprocess.Popen(cmd)
with open(pidfile, "w") as f:
    f.write(str(child.pid))
_, status, ru = os.wait4(child.pid, 0)
with open(cpu, "w") as f:
    f.write(f"{ru.ru_utime + ru.ru_stime:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f}"
            f" {ru.ru_minflt} {ru.ru_nvcsw} {ru.ru_nivcsw}\n")
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
'

# start_fixture NAME ARGS...: starts "$bin" ARGS with its output in $out/NAME.{stdout,stderr},
# adds its pid to pids, and sets $pid and $addr once it is ready (30 s at most; 120 s when
# $launch is set, which may be a slow wrapper such as valgrind).
#   launch=(CMD...)  put before "$bin" (valgrind --tool=callgrind …); $pid is then its pid
#   cpu_file=FILE    run under a python parent that writes the fixture's CPU-seconds to FILE
#                    at exit (see rusage_py); $pid is the fixture's, $parent the python's
start_fixture() {
  local name=$1
  shift
  local log="$out/$name.stdout"
  local cmd=(${launch[@]+"${launch[@]}"} "$bin" "$@")
  parent=""
  if [ -n "${cpu_file:-}" ]; then
    rm -f "$cpu_file" "$out/$name.pid"
    python3 -c "$rusage_py" "$cpu_file" "$out/$name.pid" "${cmd[@]}" >"$log" 2>"$out/$name.stderr" &
    parent=$!
    pids+=("$parent")
    for _ in $(seq 1 100); do [ -s "$out/$name.pid" ] && break; sleep 0.05; done
    pid=$(cat "$out/$name.pid")
  else
    "${cmd[@]}" >"$log" 2>"$out/$name.stderr" &
    pid=$!
  fi
  pids+=("$pid")
  addr=""
  local tries=300
  [ -z "${launch[*]:-}" ] || tries=1200
  for _ in $(seq 1 "$tries"); do
    grep -q '^ready' "$log" 2>/dev/null && { addr=$(sed -n 's/^addr=//p' "$log"); break; }
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "$name: the fixture did not start" >&2; exit 1; }
}

# cpu_now PID: CPU-seconds its live threads have used so far (sum of /proc/PID/task/*/schedstat,
# nanoseconds, printed as seconds).
cpu_now() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ns += $1} END {printf "%.6f\n", ns / 1e9}'
}

# open_idle_connections NAME TRIES: runs benches/idle_client.py against $addr with $conns
# connections (output in $out/NAME.client), sets $client to its pid and waits (TRIES × 0.1 s at
# most) until every connection has had its answer and stays idle; exits if one is missing.
open_idle_connections() {
  local name=$1 tries=$2
  python3 "$repo/benches/idle_client.py" "${addr%:*}" "${addr##*:}" "$conns" >"$out/$name.client" &
  client=$!
  pids+=("$client")
  for _ in $(seq 1 "$tries"); do
    grep -q '^open' "$out/$name.client" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "^open $conns" "$out/$name.client" ||
    { echo "$name: the client did not open $conns connections" >&2; exit 1; }
}
