//! Benchmarks of graceful; nothing here is a library. The benchmarks are in `benches/`, the
//! programs they start in `programs/`, and BENCHMARKS.md at the repository root holds the
//! figures with the commands that reproduce them.
