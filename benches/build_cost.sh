#!/usr/bin/env bash
# Build cost: clean `cargo build` (debug) of a hello world that uses `#[graceful::main]`
# (default features, by path) against one that uses tokio-graceful-shutdown 0.20, with a bare
# `#[tokio::main]` one for scale, in the same run, in ABBA order.
#
#   bash benches/build_cost.sh            # CPU-seconds (user+sys), wall seconds, crates, ratio
#   ROUNDS=2 bash benches/build_cost.sh   # more paired rounds
#   GRACEFUL_PATH=/some/checkout bash benches/build_cost.sh   # measure another checkout
#   PER_CRATE=1 bash benches/build_cost.sh  # then one more build each, CPU-seconds per crate
#   KEEP=1 bash benches/build_cost.sh       # keep the hello worlds (the path is printed)
#
# Each build starts from an empty target directory. Dependencies are fetched first (not
# timed), so the figure is compile time, not download time. CPU-seconds are the figure to
# compare on a shared machine: other load stretches a build's wall time far more than the CPU
# time it needs. All three depend on tokio with the same features, so the difference is what
# each framework adds. The machine's load average is printed beside every build.
set -euo pipefail
shopt -s inherit_errexit

repo="${GRACEFUL_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/graceful-build-cost.XXXXXX")"
# KEEP=1 leaves the hello worlds (graceful's with its packaged registry) in $work for further
# measurements: `cargo build --timings`, a rebuild after an edit of `main`.
if [ "${KEEP:-0}" = 1 ]; then
    trap 'echo "hello worlds kept in $work"' EXIT
else
    trap 'rm -rf "$work"' EXIT
fi
unset CARGO_TARGET_DIR RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER

# new_crate NAME DEPENDENCY-LINE MAIN-SOURCE
new_crate() {
    mkdir -p "$work/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\ntokio = { version = "1", features = ["macros", "rt-multi-thread"] }\n\n[workspace]\n' \
        "$1" "$2" >"$work/$1/Cargo.toml"
    printf '%s\n' "$3" >"$work/$1/src/main.rs"
}

# graceful as a user gets it: from a registry, not a path. Cargo compiles path dependencies
# incrementally (a dependency graph saved beside 256 codegen units) and registry ones in one
# pass with 16, so a path dependency would charge graceful about 3 CPU-seconds that no user
# pays. The published crates are packaged (`cargo package`, what `cargo publish` uploads) and
# served with the registry dependencies they resolve to from a local directory source; the
# program's own crate stays a path crate in all three builds.
package=$(sed -n '/^\[package\]/,/^\[/ s/^name = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
packages=("$package" shutdown-core shutdown-macros shutdown-grammar)
(cd "$repo" && CARGO_TARGET_DIR="$work/package" cargo package --quiet --no-verify --allow-dirty \
    "${packages[@]/#/--package=}")
new_crate hello-graceful "graceful-path = { package = \"$package\", path = \"$repo\" }" ''
(cd "$work/hello-graceful" && cargo vendor --quiet --versioned-dirs "$work/vendor" >/dev/null)
for p in "$work"/package/package/*.crate; do
    tar -xzf "$p" -C "$work/vendor"
    printf '{"files":{},"package":"%s"}' "$(sha256sum "$p" | cut -d' ' -f1)" \
        >"$work/vendor/$(basename "$p" .crate)/.cargo-checksum.json"
done
version=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml")
rm -rf "$work/hello-graceful"
new_crate hello-graceful "$package = \"=$version\"" '#[graceful::main]
async fn main() {
    println!("hello, world");
}'
mkdir -p "$work/hello-graceful/.cargo"
printf '[source.crates-io]\nreplace-with = "packaged"\n\n[source.packaged]\ndirectory = "%s"\n' \
    "$work/vendor" >"$work/hello-graceful/.cargo/config.toml"

new_crate hello-tgs 'tokio-graceful-shutdown = "=0.20.0"' 'use std::time::Duration;
use tokio_graceful_shutdown::{SubsystemBuilder, SubsystemHandle, Toplevel};

async fn hello(_subsys: &mut SubsystemHandle) -> Result<(), std::io::Error> {
    println!("hello, world");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Toplevel::new(async |s: &mut SubsystemHandle| {
        s.start(SubsystemBuilder::new("hello", hello));
    })
    .catch_signals()
    .handle_shutdown_requests(Duration::from_secs(1))
    .await
    .map_err(Into::into)
}'

new_crate hello-tokio '' '#[tokio::main]
async fn main() {
    println!("hello, world");
}'

# Prints "<cpu seconds> <wall seconds>" for a clean build of the crate in $1.
build() {
    local dir="$1"
    rm -rf "$dir/target"
    if ! (cd "$dir" && CARGO_TARGET_DIR="$dir/target" /usr/bin/time -f '%U %S %e' -o "$dir/time" \
        cargo build --quiet 2>"$dir/build.log"); then
        cat "$dir/build.log" >&2
        return 1
    fi
    awk '{ printf "%.1f %.1f\n", $1 + $2, $3 }' "$dir/time"
}
crates() {
    (cd "$1" && cargo tree --prefix none -e normal,build | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l)
}
median() {
    tr ' ' '\n' | grep -v '^$' | sort -n |
        awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

names=(hello-graceful hello-tgs hello-tokio)
for n in "${names[@]}"; do (cd "$work/$n" && cargo fetch --quiet); done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "rustc:   $(rustc --version)"
echo "graceful: $repo ($(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"
declare -A cpu wall
for ((r = 0; r < ${ROUNDS:-1}; r++)); do
    # ABBA for the pair that is compared; bare tokio once a round, in the middle.
    for n in hello-graceful hello-tgs hello-tokio hello-tgs hello-graceful; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        read -r c w < <(build "$work/$n")
        cpu[$n]="${cpu[$n]:-} $c"
        wall[$n]="${wall[$n]:-} $w"
        printf '  %-15s cpu %6.1f s  wall %6.1f s  (load average %s before)\n' "$n" "$c" "$w" "$load"
    done
done
for n in "${names[@]}"; do
    printf '%-15s median cpu %6.1f s  wall %6.1f s  %3d crates\n' "$n" \
        "$(echo "${cpu[$n]}" | median)" "$(echo "${wall[$n]}" | median)" "$(crates "$work/$n")"
done
g=$(echo "${cpu[hello-graceful]}" | median)
t=$(echo "${cpu[hello-tgs]}" | median)
printf 'ratio graceful / tokio-graceful-shutdown 0.20 (CPU-seconds): %.2f\n' "$(echo "$g / $t" | bc -l)"

# Where the time goes: one more clean build of each, every rustc run under /usr/bin/time (a
# RUSTC_WRAPPER), summed per crate name (a crate's build script counts as build_script_build).
if [ "${PER_CRATE:-0}" = 1 ]; then
    printf '#!/bin/sh\nname=unknown; prev=\nfor a in "$@"; do [ "$prev" = --crate-name ] && name=$a; prev=$a; done\nexec /usr/bin/time -a -o "$RUSTC_TIME_LOG" -f "$name %%U %%S" "$@"\n' \
        >"$work/rustc-timed"
    chmod +x "$work/rustc-timed"
    for n in hello-graceful hello-tgs; do
        rm -rf "$work/$n/target" "$work/$n.cpu"
        (cd "$work/$n" && RUSTC_WRAPPER="$work/rustc-timed" RUSTC_TIME_LOG="$work/$n.cpu" \
            CARGO_TARGET_DIR="$work/$n/target" cargo build --quiet 2>/dev/null)
        echo "$n, CPU-seconds per crate:"
        awk '{ c[$1] += $2 + $3 } END { for (k in c) printf "  %6.2f %s\n", c[k], k }' "$work/$n.cpu" |
            sort -rn | head -n 15
    done
fi
