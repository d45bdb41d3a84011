#!/usr/bin/env bash
# Instructions per HTTP request: `graceful::http::serve` (with and without `TrackLayer`)
# against plain `axum::serve`, the same router (`GET /hello`), the same run, counted by
# callgrind. Instruction counts do not move with the machine's load, so this figure holds on
# a busy machine where wall-clock throughput does not.
#
#   bash benches/http_instructions.sh
#   REQUESTS=20000 MAX_SECS=60 CONNS=8 bash benches/http_instructions.sh
#   SERVERS="axum graceful graceful+Track" bash benches/http_instructions.sh   # some rows only
#
# Needs valgrind (callgrind) and wrk (`apt-get install -y valgrind wrk`).
#
# For each server: start the release fixture under callgrind, drive it with wrk over
# loopback (stopped after REQUESTS responses or MAX_SECS, whichever comes first), send
# SIGTERM, read callgrind's total. The same server is also run idle (no request) for as long
# as the loaded run took; per request = (loaded total - idle total) / requests answered.
# Start-up, shutdown and timer wake-ups thus cancel out. The callgrind files stay in OUT
# (default: a temporary directory, printed) for `callgrind_annotate`.
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
requests="${REQUESTS:-20000}"
max_secs="${MAX_SECS:-8}"
conns="${CONNS:-8}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/graceful-http-instr.XXXXXX")}"
mkdir -p "$out"

for tool in valgrind wrk; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install -y $tool)" >&2; exit 1; }
done

# The fixture program, from whichever package of the workspace declares it (FIXTURE=path
# measures a binary built elsewhere, for example from an older commit). The path is the one
# cargo reports, so a redirected target directory is followed.
if [ -n "${FIXTURE:-}" ]; then
  bin=$FIXTURE
else
  manifest=$(grep -l 'name = "graceful-fixture-http"' ./*/Cargo.toml Cargo.toml | head -n1)
  pkg=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)
  features=()
  grep -q '^axum = ' "$manifest" && features=(--features axum)
  bin=$(cargo build --release -p "$pkg" "${features[@]}" --bin graceful-fixture-http \
    --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n1)
fi
[ -x "$bin" ] || { echo "no fixture binary (build failed?)" >&2; exit 1; }
cp "$bin" "$out/graceful-fixture-http"
bin="$out/graceful-fixture-http"

# wrk stops each connection's thread after `requests` responses in total.
cat >"$out/bounded.lua" <<EOF
local done = 0
function response(status, headers, body)
  if status ~= 200 then error("status " .. status) end
  done = done + 1
  if done >= $requests then wrk.thread:stop() end
end
EOF

pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# run NAME SECONDS|load ARGS... -> prints "total requests seconds"
run() {
  local name=$1 mode=$2; shift 2
  local log="$out/$name.stdout" cg="$out/$name.callgrind"
  env "${envs[@]}" valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin" routes=hello "$@" \
    >"$log" 2>"$out/$name.valgrind" &
  local pid=$!
  pids+=("$pid")
  local addr=""
  for _ in $(seq 1 600); do
    grep -q '^ready' "$log" 2>/dev/null && { addr=$(sed -n 's/^addr=//p' "$log"); break; }
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "$name: the fixture did not start (see $out/$name.valgrind)" >&2; exit 1; }
  local n=0 secs
  if [ "$mode" = load ]; then
    local start end
    start=$(date +%s.%N)
    wrk -t1 -c"$conns" -d"${max_secs}s" -s "$out/bounded.lua" "http://$addr/hello" >"$out/$name.wrk"
    end=$(date +%s.%N)
    n=$(awk '/requests in/ {print $1}' "$out/$name.wrk")
    if grep -q 'Non-2xx\|Socket errors' "$out/$name.wrk"; then
      echo "$name: wrk saw errors:" >&2; cat "$out/$name.wrk" >&2; exit 1
    fi
    secs=$(echo "$end - $start" | bc)
  else
    secs=$mode
    sleep "$secs"
  fi
  kill -TERM "$pid"
  wait "$pid" || true
  local total
  total=$(sed -n 's/^summary: *//p' "$cg")
  [ -n "$total" ] || total=$(sed -n 's/^totals: *//p' "$cg")
  echo "$total $n $secs"
}

printf '%-36s %10s %14s %15s\n' server requests "instr/request" "vs axum::serve"
declare -A per
# graceful+Track: `Track::new(router, &shutdown)`, one wrapper around the whole router.
# graceful+Router::layer(TrackLayer): one per route; axum then also boxes every response body
# again, which any layer changing the body type costs under `Router::layer`.
# graceful,lame_duck=false: the same server with `[http] lame_duck` off (it changes no
# instruction of a request outside the lame-duck window; this row shows it).
# axum::serve runs first: the other rows are ratios to it.
all=(axum graceful graceful,lame_duck=false graceful+Track "graceful+Router::layer(TrackLayer)")
servers=("${all[@]}")
[ -z "${SERVERS:-}" ] || read -r -a servers <<<"$SERVERS"
[ "${servers[0]}" = axum ] || servers=(axum "${servers[@]}")
for server in "${servers[@]}"; do
  envs=(GRACEFUL_HTTP_LAME_DUCK=true)
  case $server in
    axum) args=(server=axum) ;;
    graceful) args=(server=graceful) ;;
    graceful,lame_duck=false) args=(server=graceful); envs=(GRACEFUL_HTTP_LAME_DUCK=false) ;;
    graceful+Track) args=(server=graceful track=router) ;;
    *) args=(server=graceful track=1) ;;
  esac
  file=${server//[^a-zA-Z+]/_}
  read -r loaded n secs < <(run "${file}-load" load "${args[@]}")
  read -r idle _ _ < <(run "${file}-idle" "$secs" "${args[@]}")
  per[$server]=$(( (loaded - idle) / n ))
  ratio=$(echo "scale=3; ${per[$server]} / ${per[axum]}" | bc)
  printf '%-36s %10d %14d %13sx\n' "$server" "$n" "${per[$server]}" "$ratio"
done
echo "callgrind files: $out (callgrind_annotate $out/graceful-load.callgrind)"
