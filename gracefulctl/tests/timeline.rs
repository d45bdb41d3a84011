//! `gracefulctl timeline`, run as a user runs it: on a report written before the timeline
//! fields existed, with `--svg`, and on files that are not reports.

use assert_cmd::Command;

/// The report `examples/hung_resource.rs` wrote before reports held the timeline's fields.
const OLD_REPORT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shutdown-core/src/timeline/testdata/forced-by-hung-close.before-timeline.json"
);

fn gracefulctl() -> Command {
    let mut cmd = Command::cargo_bin("gracefulctl").expect("the binary");
    // No manifest is needed: point at one that does not exist to prove it.
    cmd.env("GRACEFULCTL_CONFIG", "/nonexistent/gracefulctl.toml")
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS");
    cmd
}

#[test]
fn an_old_report_draws_in_80_plain_columns_naming_its_blocker() {
    let out = gracefulctl()
        .args(["timeline", OLD_REPORT])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("FORCED in 1s · longest: p10 stuck_client 1s, past its deadline"),
        "{text}"
    );
    assert!(
        text.contains("! resource `stuck_client` (priority 10) did not close"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour on a pipe: {text:?}");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line}");
    }
}

#[test]
fn svg_writes_the_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("t.svg");
    let out = gracefulctl()
        .args(["timeline", OLD_REPORT, "--svg"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(out.status.success());
    let svg = std::fs::read_to_string(&file).expect("written");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("class=\"row close late\""), "{svg}");
    assert!(!svg.contains("<script"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("picture written to "));
}

#[test]
fn a_missing_or_foreign_file_is_an_error_naming_it() {
    let out = gracefulctl()
        .args(["timeline", "/nonexistent/last-shutdown.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read the shutdown report /nonexistent/last-shutdown.json"),
        "{err}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("other.json");
    std::fs::write(&file, r#"{"phases": "not a list"}"#).expect("write");
    let out = gracefulctl()
        .arg("timeline")
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("other.json: not a shutdown report"), "{err}");
    assert!(err.contains("invalid type"), "{err}");
}
