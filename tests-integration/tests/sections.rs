//! Every configuration section is loaded once, before anything starts, from the same file and
//! the same environment, through both doors (`#[graceful::main]` and `Graceful::builder()`):
//! an invalid value in any section stops start-up with exit 78 and a message naming the key,
//! where the value came from and what is accepted; `Env::None` reads no variable in any
//! section.

mod common;

use common::{row, run_to_end};

const FIXTURE: &str = env!("CARGO_BIN_EXE_graceful-fixture-sections");

/// Exit code, stdout and stderr of the fixture entered through `door`.
fn run(door: &str, env_mode: &str, env: &[(&str, &str)]) -> (Option<i32>, Vec<String>, String) {
    run_to_end(FIXTURE, &[door, env_mode], env)
}

const DOORS: [&str; 2] = ["macro", "builder"];

/// Through both doors, `env` stops start-up with 78 before `main` runs, and stderr holds every
/// one of `expected`.
fn refused_on_both_doors(env: &[(&str, &str)], expected: &[&str]) {
    for door in DOORS {
        let (code, out, err) = run(door, "process", env);
        assert_eq!(
            code,
            Some(i32::from(graceful::exit::CONFIG_ERROR)),
            "door {door}: {err}"
        );
        assert!(out.is_empty(), "door {door}: main ran: {out:?}");
        for e in expected {
            assert!(err.contains(e), "door {door}: `{e}` missing from: {err}");
        }
    }
}

/// A configuration file holding `text`, named by `FIXTURE_CONFIG`.
fn with_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = common::temp_dir();
    let file = dir.path().join("graceful.toml");
    std::fs::write(&file, text).expect("write the configuration file");
    let path = file.to_str().expect("utf8").to_string();
    (dir, path)
}

#[test]
fn an_invalid_core_value_stops_start_up_on_both_doors() {
    refused_on_both_doors(
        &[("SHUTDOWN_DRAIN_TIMEOUT", "soon")],
        &[
            "`SHUTDOWN_DRAIN_TIMEOUT` (env SHUTDOWN_DRAIN_TIMEOUT): `soon` is not a duration",
            "`1m30s`",
        ],
    );
}

#[test]
fn an_invalid_admin_value_stops_start_up_on_both_doors_without_the_api_started() {
    refused_on_both_doors(
        &[("GRACEFUL_ADMIN_ADDR", "nowhere")],
        &[
            "`GRACEFUL_ADMIN_ADDR` (env GRACEFUL_ADMIN_ADDR): `nowhere` is not a socket address",
            "\"127.0.0.1:9090\"",
        ],
    );
}

#[test]
fn an_invalid_http_value_stops_start_up_on_both_doors_before_serve() {
    refused_on_both_doors(
        &[("GRACEFUL_HTTP_LAME_DUCK", "maybe")],
        &[
            "`GRACEFUL_HTTP_LAME_DUCK` (env GRACEFUL_HTTP_LAME_DUCK): `maybe` is not a boolean",
            "expected true/false, yes/no, on/off or 1/0",
        ],
    );
    let (_dir, file) = with_file("[http]\nrequest_grace = \"soon\"\n");
    refused_on_both_doors(
        &[("FIXTURE_CONFIG", &file)],
        &[
            "`http.request_grace`",
            "graceful.toml",
            "line 2:",
            "`1m30s`",
        ],
    );
}

#[test]
fn an_invalid_upgrade_value_stops_start_up_on_both_doors() {
    refused_on_both_doors(
        &[("GRACEFUL_UPGRADE_TIMEOUT", "soon")],
        &[
            "`GRACEFUL_UPGRADE_TIMEOUT` (env GRACEFUL_UPGRADE_TIMEOUT): `soon` is not a duration",
            "`1m30s`",
        ],
    );
    let (_dir, file) = with_file("[upgrade]\ntimeout = \"0s\"\n");
    refused_on_both_doors(
        &[("FIXTURE_CONFIG", &file)],
        &["`upgrade.timeout`", "graceful.toml", "greater than zero"],
    );
}

#[test]
fn an_invalid_systemd_value_stops_start_up_on_both_doors() {
    refused_on_both_doors(
        &[("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "soon")],
        &[
            "`GRACEFUL_SYSTEMD_EXTEND_INTERVAL` (env GRACEFUL_SYSTEMD_EXTEND_INTERVAL): `soon` is not a duration",
            "`1m30s`",
        ],
    );
    let (_dir, file) = with_file("[systemd]\nextend_intervall = \"5s\"\n");
    refused_on_both_doors(
        &[("FIXTURE_CONFIG", &file)],
        &[
            "`systemd.extend_intervall`",
            "line 2: unknown key `extend_intervall` in `[systemd]` (did you mean `extend_interval`?)",
        ],
    );
}

#[test]
fn an_invalid_state_value_stops_start_up_on_both_doors() {
    let (_dir, file) = with_file("[state]\non_corrupt = \"shrug\"\n");
    refused_on_both_doors(
        &[("FIXTURE_CONFIG", &file)],
        &[
            "`state.on_corrupt`",
            "graceful.toml",
            "line 2:",
            "\"move_aside\" or \"refuse\"",
        ],
    );
}

#[test]
fn one_error_lists_the_problems_of_every_section() {
    let (_dir, file) = with_file("[upgrade]\ntimeout = \"0s\"\n[state]\non_corrupt = \"x\"\n");
    refused_on_both_doors(
        &[
            ("FIXTURE_CONFIG", &file),
            ("SHUTDOWN_TIMEOUT", "x"),
            ("GRACEFUL_HTTP_RETRY_AFTER", "x"),
            ("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "x"),
            ("GRACEFUL_ADMIN_BODY_LIMIT", "x"),
        ],
        &[
            "SHUTDOWN_TIMEOUT",
            "GRACEFUL_HTTP_RETRY_AFTER",
            "GRACEFUL_SYSTEMD_EXTEND_INTERVAL",
            "GRACEFUL_ADMIN_BODY_LIMIT",
            "upgrade.timeout",
            "state.on_corrupt",
        ],
    );
}

#[test]
fn env_none_reads_no_process_variable_in_any_section() {
    // Values that would stop start-up if any section read them.
    let bad = [
        ("SHUTDOWN_TIMEOUT", "soon"),
        ("GRACEFUL_ADMIN_ADDR", "nowhere"),
        ("GRACEFUL_HTTP_LAME_DUCK", "maybe"),
        ("GRACEFUL_HTTP_REQUEST_GRACE", "soon"),
        ("GRACEFUL_UPGRADE_TIMEOUT", "soon"),
        ("GRACEFUL_UPGRADE_SIGNAL", "SIGNOPE"),
        ("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "soon"),
    ];
    let (code, out, err) = run("builder", "none", &bad);
    assert_eq!(code, Some(0), "{err}");
    assert!(row(&out, "timeout").ends_with("builder"), "{out:#?}");
    assert!(
        row(&out, "admin.addr").contains("127.0.0.1:9090"),
        "{out:#?}"
    );
    assert!(row(&out, "http.lame_duck").contains("true"), "{out:#?}");
    assert!(row(&out, "http.request_grace").contains("1s"), "{out:#?}");
    assert!(
        row(&out, "upgrade.timeout").ends_with("default"),
        "{out:#?}"
    );
    assert!(row(&out, "upgrade.signal").contains("SIGUSR2"), "{out:#?}");
    assert!(
        row(&out, "systemd.extend_interval").ends_with("default"),
        "{out:#?}"
    );

    // The same variables, valid, are read with the process environment: the rows above
    // would change if `Env::None` were not honoured.
    let good = [
        ("GRACEFUL_HTTP_REQUEST_GRACE", "250ms"),
        ("GRACEFUL_UPGRADE_TIMEOUT", "7s"),
        ("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "3s"),
    ];
    let (code, out, err) = run("builder", "process", &good);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        row(&out, "http.request_grace").contains("250ms"),
        "{out:#?}"
    );
    assert!(
        row(&out, "upgrade.timeout").ends_with("env GRACEFUL_UPGRADE_TIMEOUT"),
        "{out:#?}"
    );
    assert!(
        row(&out, "systemd.extend_interval").ends_with("env GRACEFUL_SYSTEMD_EXTEND_INTERVAL"),
        "{out:#?}"
    );
    let (code, out, err) = run("builder", "none", &good);
    assert_eq!(code, Some(0), "{err}");
    assert!(row(&out, "http.request_grace").contains("1s"), "{out:#?}");
    assert!(
        row(&out, "upgrade.timeout").ends_with("default"),
        "{out:#?}"
    );
}

#[test]
fn the_effective_configuration_shows_every_section_with_its_source_on_both_doors() {
    let (_dir, file) = with_file("[systemd]\nextend_interval = \"4s\"\n");
    for door in DOORS {
        let (code, out, err) = run(
            door,
            "process",
            &[
                ("FIXTURE_CONFIG", &file),
                ("GRACEFUL_UPGRADE_TIMEOUT", "9s"),
            ],
        );
        assert_eq!(code, Some(0), "door {door}: {err}");
        for key in [
            "timeout",
            "report_svg",
            "admin.addr",
            "http.late_requests",
            "http.request_grace",
            "http.lame_duck",
            "http.fatal_panics",
            "state.on_corrupt",
            "systemd.extend_interval",
            "upgrade.signal",
            "upgrade.pid_file",
        ] {
            row(&out, key);
        }
        assert!(
            row(&out, "systemd.extend_interval").contains("4s")
                && row(&out, "systemd.extend_interval").contains("graceful.toml"),
            "door {door}: {out:#?}"
        );
        assert!(
            row(&out, "upgrade.timeout").contains("9s"),
            "door {door}: {out:#?}"
        );
    }
}
