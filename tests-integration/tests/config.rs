//! Configuration precedence and invalid values, through a real process: defaults <
//! `#[graceful::main]` arguments < file < environment.

mod common;

use common::{row, run_to_end};

const FIXTURE: &str = env!("CARGO_BIN_EXE_graceful-fixture");

fn run_config(env: &[(&str, &str)]) -> (Option<i32>, Vec<String>, String) {
    run_to_end(FIXTURE, &["config"], env)
}

#[test]
fn each_layer_overrides_the_one_before_and_is_shown_with_its_source() {
    let dir = common::temp_dir();
    let file = dir.path().join("graceful.toml");
    std::fs::write(&file, "drain_timeout = \"4s\"\nreadiness_delay = \"2s\"\n").expect("write");
    let (code, out, err) = run_config(&[
        ("FIXTURE_CONFIG", file.to_str().expect("utf8")),
        ("SHUTDOWN_DRAIN_TIMEOUT", "7s"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    // timeout: macro argument (25s) over the default (30s)
    assert!(
        row(&out, "timeout").contains("25s") && row(&out, "timeout").contains("#[graceful::main]")
    );
    // drain_timeout: env (7s) over file (4s) over macro (5s)
    assert!(
        row(&out, "drain_timeout").contains("7s")
            && row(&out, "drain_timeout").contains("env SHUTDOWN_DRAIN_TIMEOUT")
    );
    // readiness_delay: file over default
    assert!(
        row(&out, "readiness_delay").contains("2s")
            && row(&out, "readiness_delay").contains("graceful.toml")
    );
    // untouched: default
    assert!(row(&out, "force_after_timeout").ends_with("default"));
}

#[test]
fn shutdown_config_env_overrides_the_macro_path() {
    let dir = common::temp_dir();
    let file = dir.path().join("other.toml");
    std::fs::write(&file, "timeout = \"1m30s\"\n").expect("write");
    let (code, out, err) = run_config(&[
        ("FIXTURE_CONFIG", "/nonexistent.toml"),
        ("SHUTDOWN_CONFIG", file.to_str().expect("utf8")),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(row(&out, "timeout").contains("1m 30s"), "{out:?}");
}

#[test]
fn an_unparseable_env_value_stops_start_up_naming_key_source_and_forms() {
    let (code, out, err) = run_config(&[("SHUTDOWN_TIMEOUT", "30x")]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(out.is_empty(), "nothing started: {out:?}");
    assert!(
        err.contains("`SHUTDOWN_TIMEOUT` (env SHUTDOWN_TIMEOUT): `30x` is not a duration"),
        "{err}"
    );
    assert!(err.contains("`30s`, `1m30s`, `250ms`"), "{err}");
}

#[test]
fn negative_values_are_refused() {
    let (code, _, err) = run_config(&[("SHUTDOWN_READINESS_DELAY", "-1s")]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(err.contains("negative"), "{err}");
}

#[test]
fn drain_longer_than_the_overall_timeout_is_refused() {
    let (code, _, err) = run_config(&[("SHUTDOWN_DRAIN_TIMEOUT", "40s")]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(
        err.contains("is longer than timeout (25s, #[graceful::main])"),
        "{err}"
    );
}

#[test]
fn an_unknown_key_in_the_file_is_refused_with_its_line() {
    let dir = common::temp_dir();
    let file = dir.path().join("graceful.toml");
    std::fs::write(
        &file,
        "# comment\ntimeout = \"20s\"\nreadines_delay = \"1s\"\n",
    )
    .expect("write");
    let (code, _, err) = run_config(&[("FIXTURE_CONFIG", file.to_str().expect("utf8"))]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(
        err.contains("`readines_delay`") && err.contains("line 3"),
        "{err}"
    );
    assert!(err.contains("did you mean `readiness_delay`"), "{err}");
}

#[test]
fn several_problems_are_reported_together() {
    let (code, _, err) = run_config(&[
        ("SHUTDOWN_TIMEOUT", "soon"),
        ("SHUTDOWN_FORCE_AFTER_TIMEOUT", "perhaps"),
    ]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(
        err.contains("SHUTDOWN_TIMEOUT") && err.contains("SHUTDOWN_FORCE_AFTER_TIMEOUT"),
        "{err}"
    );
}

#[test]
fn wait_for_connections_is_a_key_like_the_others() {
    let dir = common::temp_dir();
    let file = dir.path().join("graceful.toml");
    std::fs::write(&file, "wait_for_connections = false\n").expect("write");
    let path = file.to_str().expect("utf8");
    let (code, out, err) = run_config(&[("FIXTURE_CONFIG", path)]);
    assert_eq!(code, Some(0), "{err}");
    let row_file = row(&out, "wait_for_connections");
    assert!(
        row_file.contains("false") && row_file.contains("graceful.toml"),
        "{row_file}"
    );
    let (code, out, err) = run_config(&[
        ("FIXTURE_CONFIG", path),
        ("SHUTDOWN_WAIT_FOR_CONNECTIONS", "yes"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let row_env = row(&out, "wait_for_connections");
    assert!(
        row_env.contains("true") && row_env.contains("env SHUTDOWN_WAIT_FOR_CONNECTIONS"),
        "{row_env}"
    );
    let (code, _, err) = run_config(&[("SHUTDOWN_WAIT_FOR_CONNECTIONS", "sometimes")]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(err.contains("`sometimes` is not a boolean"), "{err}");
}

#[test]
fn decimal_seconds_and_signal_numbers_are_one_grammar() {
    let (code, out, err) = run_config(&[
        ("SHUTDOWN_READINESS_DELAY", "0.5"),
        ("SHUTDOWN_SIGNALS", "15,int"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(row(&out, "readiness_delay").contains("500ms"), "{out:?}");
    assert!(row(&out, "signals").contains("SIGTERM,SIGINT"), "{out:?}");
}

#[test]
fn retired_sections_are_refused_naming_what_to_use_instead() {
    let dir = common::temp_dir();
    let file = dir.path().join("graceful.toml");
    std::fs::write(&file, "timeout = \"20s\"\n\n[kubernetes]\ngrace = 30\n").expect("write");
    let (code, _, err) = run_config(&[("FIXTURE_CONFIG", file.to_str().expect("utf8"))]);
    assert_eq!(code, Some(i32::from(graceful::exit::CONFIG_ERROR)));
    assert!(
        err.contains("`kubernetes`") && err.contains("line 3") && err.contains("grace_period"),
        "{err}"
    );
}
