# Shared by the HTTP drain benchmarks (sourced, not run): the release HTTP fixture of
# tests-integration, and starting it until it prints its address.

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

# start_fixture NAME ARGS...: starts "$bin" ARGS with its output in $out/NAME.{stdout,stderr},
# adds its pid to pids, and sets $pid and $addr once it is ready (30 s at most).
start_fixture() {
  local name=$1
  shift
  local log="$out/$name.stdout"
  "$bin" "$@" >"$log" 2>"$out/$name.stderr" &
  pid=$!
  pids+=("$pid")
  addr=""
  for _ in $(seq 1 300); do
    grep -q '^ready' "$log" 2>/dev/null && { addr=$(sed -n 's/^addr=//p' "$log"); break; }
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "$name: the fixture did not start" >&2; exit 1; }
}
