#!/usr/bin/env bash
# Build cost: clean `cargo build` (debug) of a hello-world that uses `graceful` (default
# features, by path) against one that uses `tokio-graceful-shutdown`, in the same run.
#
#   bash benches/build_cost.sh            # prints both times and the ratio
#   GRACEFUL_PATH=/some/checkout bash benches/build_cost.sh   # measure another checkout
#
# Each crate is built from clean with its own target directory. Dependencies are fetched
# first (not timed), so the figure is compile time, not download time. Both crates depend
# on tokio with the same features, so the difference is what each framework adds.
set -euo pipefail
shopt -s inherit_errexit

repo="${GRACEFUL_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/graceful-build-cost.XXXXXX")"
trap 'rm -rf "$work"' EXIT
unset CARGO_TARGET_DIR RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER

mkdir -p "$work/hello-graceful/src" "$work/hello-tgs/src"

cat >"$work/hello-graceful/Cargo.toml" <<EOF
[package]
name = "hello-graceful"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
graceful = { path = "$repo" }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
EOF
cat >"$work/hello-graceful/src/main.rs" <<'EOF'
#[tokio::main]
async fn main() -> std::process::ExitCode {
    let graceful = graceful::Graceful::builder().build().expect("valid configuration");
    graceful
        .run(|_shutdown| async { println!("hello, world") })
        .await
        .exit_code()
}
EOF

cat >"$work/hello-tgs/Cargo.toml" <<'EOF'
[package]
name = "hello-tgs"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
tokio-graceful-shutdown = "0.16"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
EOF
cat >"$work/hello-tgs/src/main.rs" <<'EOF'
use std::time::Duration;
use tokio_graceful_shutdown::{SubsystemBuilder, SubsystemHandle, Toplevel};

async fn hello(_subsys: SubsystemHandle) -> Result<(), std::io::Error> {
    println!("hello, world");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Toplevel::new(|s| async move {
        s.start(SubsystemBuilder::new("hello", hello));
    })
    .catch_signals()
    .handle_shutdown_requests(Duration::from_secs(1))
    .await
    .map_err(Into::into)
}
EOF

build() {
    local dir="$1"
    (cd "$dir" && cargo fetch --quiet)
    local start end
    start=$(date +%s.%N)
    if ! (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --quiet 2>"$dir/build.log"); then
        cat "$dir/build.log" >&2
        return 1
    fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "rustc:   $(rustc --version)"
echo "graceful: $repo ($(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"
t_graceful=$(build "$work/hello-graceful")
t_tgs=$(build "$work/hello-tgs")
n_graceful=$(cd "$work/hello-graceful" && cargo tree --prefix none -e normal,build | sort -u | wc -l)
n_tgs=$(cd "$work/hello-tgs" && cargo tree --prefix none -e normal,build | sort -u | wc -l)
printf 'graceful (default features):   %6.1f s  (%d crates)\n' "$t_graceful" "$n_graceful"
printf 'tokio-graceful-shutdown 0.16:  %6.1f s  (%d crates)\n' "$t_tgs" "$n_tgs"
printf 'ratio graceful / tokio-graceful-shutdown: %.2f\n' "$(echo "$t_graceful / $t_tgs" | bc -l)"
