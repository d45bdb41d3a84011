//! The `gracefulctl` binary: parse the command line, hand it to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gracefulctl::run(gracefulctl::cli::Cli::parse())
}
