#!/usr/bin/env bash
# Regenerates the pictures of real shutdowns shown in README.md and docs/operations.md:
#   docs/quickstart-shutdown.svg   the quickstart example stopped with SIGTERM (completed)
#   the terminal view printed at the end: the hung_resource example stopped with SIGINT
#   (forced by its hung close), as `gracefulctl timeline` draws it without a terminal.
# Run from the repository: docs/timeline.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --example quickstart --example hung_resource --features timeline
cargo build --quiet -p gracefulctl
bin="${CARGO_TARGET_DIR:-target}/debug"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Starts an example with a state directory and the picture on, waits for its `ready` line,
# sends the signal, and waits for it to exit (its exit status is the shutdown's).
stop_example() { # name, signal
  local name=$1 sig=$2 dir="$work/$1"
  mkdir -p "$dir"
  SHUTDOWN_STATE_DIR="$dir" SHUTDOWN_REPORT_SVG=true "$bin/examples/$name" >"$dir/out" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do grep -q '^ready' "$dir/out" && break; sleep 0.1; done
  kill -"$sig" "$pid"
  wait "$pid" || true
}

stop_example quickstart TERM
cp "$work/quickstart/last-shutdown.svg" docs/quickstart-shutdown.svg
echo "wrote docs/quickstart-shutdown.svg"

stop_example hung_resource INT
NO_COLOR=1 "$bin/gracefulctl" timeline "$work/hung_resource/last-shutdown.json"
