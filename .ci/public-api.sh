#!/usr/bin/env bash
# The public API of the published libraries, as `cargo public-api` lists it (every feature on),
# compared with the snapshots committed in .ci/public-api/: the engine (shutdown-core), the
# facade users depend on (package `gracefully`, library `graceful`: the engine's items as the
# user reaches them, plus the macros) and gracefulctl's library. A change to a public API is
# then always deliberate: it shows up as a diff here, and the snapshot is updated in the same
# commit with
#
#   bash .ci/public-api.sh --update
#
# rustdoc's JSON output is unstable; RUSTC_BOOTSTRAP=1 lets the stable toolchain write it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/graceful/ci-target}"
export CARGO_INCREMENTAL=0
version=0.52.0

if ! cargo public-api --version 2>/dev/null | grep -q "$version"; then
  cargo install --locked --quiet cargo-public-api --version "$version"
fi

update=false
[ "${1:-}" = --update ] && update=true

# package:library, one snapshot per package.
for entry in shutdown-core:shutdown_core gracefully:graceful gracefulctl:gracefulctl; do
  package=${entry%%:*}
  library=${entry#*:}
  json_dir="$CARGO_TARGET_DIR/public-api"
  RUSTC_BOOTSTRAP=1 cargo rustdoc --quiet -p "$package" --all-features --lib \
    --target-dir "$json_dir" -- -Z unstable-options --output-format json
  listed=$(mktemp)
  cargo public-api --rustdoc-json "$json_dir/doc/$library.json" \
    --omit blanket-impls,auto-trait-impls,auto-derived-impls >"$listed"
  snapshot=".ci/public-api/$package.txt"
  if $update; then
    mv "$listed" "$snapshot"
    echo "$snapshot updated"
  elif ! diff -u "$snapshot" "$listed"; then
    rm -f "$listed"
    echo "the public API of $package changed (diff above); if that is deliberate, run" \
      "bash .ci/public-api.sh --update and commit $snapshot" >&2
    exit 1
  else
    rm -f "$listed"
    echo "$package: public API as in $snapshot"
  fi
done
