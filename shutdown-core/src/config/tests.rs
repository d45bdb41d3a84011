use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn write_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graceful-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("graceful.toml");
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn precedence_is_default_macro_file_env() {
    let mut base = Config::default();
    base.timeout.set(Duration::from_secs(40), Source::Macro);
    base.drain_timeout
        .set(Duration::from_secs(5), Source::Macro);
    base.readiness_delay
        .set(Duration::from_secs(1), Source::Macro);
    let path = write_file(
        "precedence",
        "drain_timeout = \"7s\"\nreadiness_delay = 2\n",
    );
    let c = base
        .load(
            Some(path.clone()),
            &env(&[("SHUTDOWN_READINESS_DELAY", "250ms")]),
        )
        .expect("valid");
    assert_eq!(c.timeout.value, Duration::from_secs(40));
    assert_eq!(c.timeout.source, Source::Macro);
    assert_eq!(c.drain_timeout.value, Duration::from_secs(7));
    assert_eq!(c.drain_timeout.source, Source::File(path));
    assert_eq!(c.readiness_delay.value, Duration::from_millis(250));
    assert_eq!(
        c.readiness_delay.source,
        Source::Env("SHUTDOWN_READINESS_DELAY".into())
    );
    assert_eq!(c.resource_close_timeout.source, Source::Default);
    let shown = c.to_string();
    assert!(shown.contains("env SHUTDOWN_READINESS_DELAY"), "{shown}");
    assert!(shown.contains("#[graceful::main]"), "{shown}");
}

#[test]
fn shutdown_config_env_names_the_file() {
    let path = write_file("envpath", "timeout = \"1m30s\"\n");
    let c = Config::default()
        .load(
            None,
            &env(&[("SHUTDOWN_CONFIG", path.to_str().expect("utf8"))]),
        )
        .expect("valid");
    assert_eq!(c.timeout.value, Duration::from_secs(90));
}

#[test]
fn every_invalid_env_value_is_reported_with_key_and_forms() {
    let err = Config::default()
        .load(
            None,
            &env(&[
                ("SHUTDOWN_TIMEOUT", "30x"),
                ("SHUTDOWN_DRAIN_TIMEOUT", "-5s"),
                ("SHUTDOWN_FORCE_AFTER_TIMEOUT", "maybe"),
                ("SHUTDOWN_SIGNALS", "SIGTERM,SIGFOO"),
            ]),
        )
        .expect_err("invalid");
    let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "SHUTDOWN_TIMEOUT",
            "SHUTDOWN_DRAIN_TIMEOUT",
            "SHUTDOWN_FORCE_AFTER_TIMEOUT",
            "SHUTDOWN_SIGNALS"
        ]
    );
    let text = err.to_string();
    assert!(text.contains("`30x` is not a duration"), "{text}");
    assert!(text.contains("1m30s"), "accepted forms are listed: {text}");
    assert!(text.contains("negative"), "{text}");
    assert!(
        text.contains("SIGFOO") && text.contains("`SIGTERM`, `SIGINT`"),
        "{text}"
    );
    assert!(
        text.contains("env SHUTDOWN_TIMEOUT"),
        "the source is named: {text}"
    );
}

#[test]
fn drain_longer_than_timeout_is_an_error_naming_both_sources() {
    let err = Config::default()
        .load(None, &env(&[("SHUTDOWN_DRAIN_TIMEOUT", "45s")]))
        .expect_err("drain > timeout");
    let text = err.to_string();
    assert!(
        text.contains("drain_timeout (45s, env SHUTDOWN_DRAIN_TIMEOUT)"),
        "{text}"
    );
    assert!(text.contains("timeout (30s, default)"), "{text}");
}

#[test]
fn zero_timeout_is_an_error() {
    let err = Config::default()
        .load(
            None,
            &env(&[("SHUTDOWN_TIMEOUT", "0"), ("SHUTDOWN_DRAIN_TIMEOUT", "0")]),
        )
        .expect_err("zero");
    assert!(err.to_string().contains("greater than zero"), "{err}");
}

#[test]
fn unknown_file_key_names_line_and_suggestion() {
    let path = write_file("unknown", "timeout = \"20s\"\n\ndrain_timout = \"5s\"\n");
    let err = Config::default()
        .load(Some(path.clone()), &Env::None)
        .expect_err("unknown key");
    let issue = &err.issues[0];
    assert_eq!(issue.key, "drain_timout");
    assert_eq!(issue.source, Source::File(path));
    assert!(issue.message.contains("line 3"), "{}", issue.message);
    assert!(
        issue.message.contains("did you mean `drain_timeout`"),
        "{}",
        issue.message
    );
}

#[test]
fn bad_file_values_are_all_reported() {
    let text = "timeout = true\nsignals = \"SIGTERM\"\nforce_after_timeout = 3\n[class_budgets]\nhigh = \"1s\"\n";
    let err = Config::default()
        .apply_toml(text, "inline.toml")
        .expect_err("bad values");
    assert_eq!(err.issues.len(), 4, "{err}");
    let text = err.to_string();
    assert!(text.contains("found boolean"), "{text}");
    assert!(text.contains("array of signal names"), "{text}");
    assert!(text.contains("`high` is not an integer priority"), "{text}");
}

#[test]
fn invalid_toml_is_reported_not_ignored() {
    let err = Config::default()
        .apply_toml("drain_timeout = \"5s\"\ntimeout = ", "broken.toml")
        .expect_err("syntax");
    let text = err.to_string();
    assert!(text.contains("broken.toml"), "{text}");
    assert!(
        text.contains("not valid TOML: line 2, column 11: "),
        "{text}"
    );
}

#[test]
fn missing_file_is_an_error() {
    let err = Config::default()
        .load(Some("/nonexistent/graceful.toml".into()), &Env::None)
        .expect_err("missing");
    assert!(
        err.to_string()
            .contains("cannot read the configuration file"),
        "{err}"
    );
}

#[test]
fn sections_and_budgets_are_kept() {
    let text = "[admin]\naddr = \"127.0.0.1:9999\"\n[class_budgets]\n\"90\" = \"2s\"\n";
    let c = Config::default().apply_toml(text, "s.toml").expect("valid");
    assert_eq!(
        c.class_budgets.get(&90).map(|s| s.value),
        Some(Duration::from_secs(2))
    );
    let (admin, _) = c.sections.get("admin").expect("admin section");
    assert_eq!(
        admin.get("addr").and_then(|v| v.as_str()),
        Some("127.0.0.1:9999")
    );
}

#[test]
fn unknown_shutdown_env_is_a_warning_with_suggestion() {
    let c = Config::default()
        .load(None, &env(&[("SHUTDOWN_TIMEOTU", "5s")]))
        .expect("still valid");
    let w = c.warnings().join("\n");
    assert!(
        w.contains("SHUTDOWN_TIMEOTU") && w.contains("did you mean `SHUTDOWN_TIMEOUT`"),
        "{w}"
    );
}

#[test]
fn grace_period_shorter_than_timeout_warns() {
    let c = Config::default()
        .load(None, &env(&[("SHUTDOWN_GRACE_PERIOD", "20s")]))
        .expect("valid");
    assert!(
        c.warnings().iter().any(|w| w.contains("grace_period")),
        "{:?}",
        c.warnings()
    );
}

#[test]
fn dotted_section_headers_without_the_parent_table_are_accepted() {
    let text = "timeout = \"20s\"\n\n[admin.routes]\nshutdown = \"/stop\"\n";
    let c = Config::default()
        .apply_toml(text, "dotted.toml")
        .expect("valid");
    let (admin, _) = c.sections.get("admin").expect("admin section");
    let routes = admin
        .get("routes")
        .and_then(|v| v.as_table())
        .expect("routes table");
    assert_eq!(
        routes.get("shutdown").and_then(|v| v.as_str()),
        Some("/stop")
    );
}

#[test]
fn unknown_dotted_header_is_named_with_its_line() {
    let text = "timeout = \"20s\"\n[adminn.routes]\nshutdown = \"/stop\"\n";
    let err = Config::default()
        .apply_toml(text, "dotted.toml")
        .expect_err("unknown");
    assert_eq!(err.issues[0].key, "adminn");
    assert!(err.issues[0].message.contains("line 2"), "{err}");
    assert!(
        err.issues[0].message.contains("did you mean `admin`"),
        "{err}"
    );
}

#[test]
fn repeat_window_and_forced_save_are_read_from_file_and_env_and_checked() {
    let c = Config::default()
        .apply_toml(
            "signal_repeat_window = \"150ms\"\nforced_save_timeout = \"1s\"\n",
            "graceful.toml",
        )
        .expect("valid");
    assert_eq!(c.signal_repeat_window.value, Duration::from_millis(150));
    assert_eq!(c.forced_save_timeout.value, Duration::from_secs(1));
    let c = Config::default()
        .load(
            None,
            &env(&[
                ("SHUTDOWN_SIGNAL_REPEAT_WINDOW", "0"),
                ("SHUTDOWN_FORCED_SAVE_TIMEOUT", "0"),
            ]),
        )
        .expect("valid");
    assert_eq!(c.signal_repeat_window.value, Duration::ZERO);
    assert_eq!(c.forced_save_timeout.value, Duration::ZERO);
    // The default fits any timeout; a chosen budget as long as the timeout does not.
    let short = Config::default().load(
        None,
        &env(&[
            ("SHUTDOWN_TIMEOUT", "1s"),
            ("SHUTDOWN_DRAIN_TIMEOUT", "500ms"),
            ("SHUTDOWN_RESOURCE_CLOSE_TIMEOUT", "500ms"),
        ]),
    );
    assert!(short.is_ok(), "{short:?}");
    let err = Config::default()
        .load(
            None,
            &env(&[
                ("SHUTDOWN_TIMEOUT", "1s"),
                ("SHUTDOWN_DRAIN_TIMEOUT", "500ms"),
                ("SHUTDOWN_RESOURCE_CLOSE_TIMEOUT", "500ms"),
                ("SHUTDOWN_FORCED_SAVE_TIMEOUT", "1s"),
            ]),
        )
        .expect_err("too long");
    assert!(err.to_string().contains("forced_save_timeout"), "{err}");
}

/// Asserts that `doc` shows `expected` between `<!-- keys:NAME -->` and `<!-- /keys:NAME -->`;
/// on failure, prints the table to paste.
pub(crate) fn assert_doc_table(doc: &str, file: &str, name: &str, expected: &str) {
    let start = format!("<!-- keys:{name} -->\n");
    let end = format!("<!-- /keys:{name} -->");
    let (_, rest) = doc
        .split_once(&start)
        .unwrap_or_else(|| panic!("{file} has no `{start}` marker"));
    let (table, _) = rest
        .split_once(&end)
        .unwrap_or_else(|| panic!("{file} does not close `{start}`"));
    assert_eq!(
        table, expected,
        "{file}'s `{name}` table is out of step with its key table; replace it with:\n{expected}"
    );
}

#[test]
fn readme_table_is_the_key_table() {
    // README.md shows `Config::KEYS` between markers; the failure message has the new table.
    let readme = include_str!("../../../README.md");
    assert_doc_table(readme, "README.md", "core", &Config::KEYS.markdown());
}

#[test]
fn the_core_rows_are_the_rows_the_macro_reads() {
    // One table: each engine row takes its name, variable and doc from the grammar's row, in
    // the same order, and every key the macro accepts is one the engine reads.
    let engine: Vec<_> = Config::KEYS
        .keys
        .iter()
        .map(|k| (k.name, k.env, k.doc))
        .collect();
    let grammar: Vec<_> = shutdown_grammar::keys::CORE
        .iter()
        .map(|k| (k.name, k.env, k.doc))
        .collect();
    assert_eq!(engine, grammar);
    for key in shutdown_grammar::keys::CORE {
        if let shutdown_grammar::keys::DefaultValue::Value(ArgValue::Duration(d)) = key.default {
            let shown = Config::KEYS
                .rows(&Config::default())
                .into_iter()
                .find(|r| r.key == key.name)
                .map(|r| r.value);
            assert_eq!(shown, Some(fmt_d(d)), "the default of `{}`", key.name);
        }
    }
}

#[test]
fn a_typed_macro_argument_is_applied_as_given() {
    let c = Config::default()
        .apply_args(&[(
            "drain_timeout",
            ArgValue::Duration(Duration::from_nanos(1_500_000_001)),
        )])
        .expect("typed");
    assert_eq!(c.drain_timeout.value, Duration::from_nanos(1_500_000_001));
    let e = Config::default()
        .apply_args(&[("drain_timeout", ArgValue::Bool(true))])
        .expect_err("a boolean is not a duration");
    assert!(e.to_string().contains("expected a duration"), "{e}");
}

#[test]
fn load_reads_every_registered_section_with_the_same_env() {
    let e = Config::default()
        .load(None, &env(&[("SHUTDOWN_TIMEOUT", "soon")]))
        .expect_err("bad core value");
    assert_eq!(e.issues.len(), 1, "{e}");
    #[cfg(feature = "systemd")]
    {
        let e = Config::default()
            .load(
                None,
                &env(&[
                    ("SHUTDOWN_TIMEOUT", "soon"),
                    ("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "0s"),
                ]),
            )
            .expect_err("bad values in two sections");
        assert_eq!(e.issues.len(), 2, "one error lists both: {e}");
        assert!(e.to_string().contains("systemd.extend_interval"), "{e}");
        let c = Config::default()
            .load(None, &env(&[("GRACEFUL_SYSTEMD_EXTEND_INTERVAL", "3s")]))
            .expect("valid");
        assert!(
            c.to_string().contains("systemd.extend_interval"),
            "Display shows the section: {c}"
        );
        let loaded = c
            .section(&crate::systemd::SystemdConfig::KEYS)
            .expect("loaded");
        assert_eq!(loaded.extend_interval.value, Duration::from_secs(3));
    }
}

#[test]
fn every_key_is_read_from_file_env_and_macro_and_shown() {
    // One row per key drives every reader: a key added to the table is read everywhere.
    for key in Config::KEYS.keys {
        #[cfg(feature = "serde")]
        assert!(
            Config::KEYS
                .json(&Config::default())
                .get(key.name)
                .is_some(),
            "`{}` missing from /config",
            key.name
        );
        assert!(
            Config::default().to_string().contains(key.name) || key.name == "class_budgets",
            "`{}` missing from Display",
            key.name
        );
    }
    let c = Config::default()
        .apply_args(&[
            ("wait_for_connections", ArgValue::Bool(false)),
            ("signals", ArgValue::Signals(&["SIGTERM", "SIGINT"])),
        ])
        .expect("macro arguments");
    assert!(!c.wait_for_connections.value);
    assert_eq!(c.wait_for_connections.source, Source::Macro);
    assert_eq!(c.signals.value, [Signal::Term, Signal::Int]);
    let c = Config::default()
        .apply_toml("wait_for_connections = false\n", "w.toml")
        .expect("file");
    assert!(!c.wait_for_connections.value);
    let c = Config::default()
        .load(None, &env(&[("SHUTDOWN_WAIT_FOR_CONNECTIONS", "no")]))
        .expect("env");
    assert!(!c.wait_for_connections.value);
    assert_eq!(
        c.wait_for_connections.source,
        Source::Env("SHUTDOWN_WAIT_FOR_CONNECTIONS".into())
    );
    #[cfg(feature = "serde")]
    {
        let json = Config::KEYS.json(&c);
        assert_eq!(json["wait_for_connections"]["value"], false);
        assert_eq!(
            json["wait_for_connections"]["source"],
            "env SHUTDOWN_WAIT_FOR_CONNECTIONS"
        );
    }
}

#[test]
fn one_duration_grammar_for_file_env_and_macro() {
    let c = Config::default()
        .apply_args(&[
            ("timeout", ArgValue::Duration(Duration::from_millis(1500))),
            (
                "resource_close_timeout",
                ArgValue::Duration(Duration::from_millis(750)),
            ),
        ])
        .expect("macro")
        .load(
            None,
            &env(&[
                ("SHUTDOWN_DRAIN_TIMEOUT", "0.5"),
                ("SHUTDOWN_READINESS_DELAY", "0.25"),
            ]),
        )
        .expect("env");
    assert_eq!(c.timeout.value, Duration::from_millis(1500));
    assert_eq!(c.drain_timeout.value, Duration::from_millis(500));
    let c = Config::default()
        .apply_toml(
            "timeout = 2.5\ndrain_timeout = \"1.5\"\nresource_close_timeout = 0.5\n",
            "d.toml",
        )
        .expect("file");
    assert_eq!(c.timeout.value, Duration::from_millis(2500));
    assert_eq!(c.drain_timeout.value, Duration::from_millis(1500));
}

#[test]
fn retired_sections_are_refused_with_what_to_use_instead() {
    let err = Config::default()
        .apply_toml(
            "timeout = \"20s\"\n[kubernetes]\ngrace = 30\n[metrics]\nport = 9100\n",
            "r.toml",
        )
        .expect_err("retired");
    let text = err.to_string();
    assert!(
        text.contains("`kubernetes`") && text.contains("line 2") && text.contains("grace_period"),
        "{text}"
    );
    assert!(
        text.contains("`metrics`") && text.contains("line 4") && text.contains("/metrics"),
        "{text}"
    );
}

#[test]
fn every_section_gives_the_same_unknown_key_error() {
    let text = "timeout = \"20s\"\ntimout = 1\n";
    let err = Config::default()
        .apply_toml(text, "u.toml")
        .expect_err("unknown");
    assert!(
        err.issues[0].message.starts_with("line 2: unknown key `timout` in the top level of the file (did you mean `timeout`?); accepted keys: "),
        "{err}"
    );
    // A section read with the same reader: a test-only table.
    struct Demo {
        interval: Setting<Duration>,
    }
    const DEMO: Section<Demo> = Section {
        name: "admin",
        keys: &[key!(
            "interval",
            Some("DEMO_INTERVAL"),
            interval,
            value::duration,
            "demo"
        )],
        check: crate::config::no_rules,
    };
    let c = Config::default()
        .apply_toml("[admin]\n\nintervall = \"2s\"\n", "u.toml")
        .expect("raw section");
    let mut demo = Demo {
        interval: Setting::default_value(Duration::ZERO),
    };
    let mut issues = Vec::new();
    c.read_section(&DEMO, &mut demo, &mut issues);
    assert_eq!(issues[0].key, "admin.intervall");
    assert_eq!(
        issues[0].message,
        "line 3: unknown key `intervall` in `[admin]` (did you mean `interval`?); accepted keys: interval"
    );
}

#[cfg(not(feature = "serde"))]
#[test]
fn state_dir_without_serde_is_an_error_naming_the_feature() {
    let err = Config::default()
        .apply_toml("state_dir = \"/var/lib/app\"\n", "g.toml")
        .expect_err("the report file needs serde");
    let text = err.to_string();
    assert!(
        text.contains("`state_dir` (file g.toml)") && text.contains("`serde` feature"),
        "{text}"
    );
}

#[cfg(not(feature = "timeline"))]
#[test]
fn report_svg_without_the_timeline_feature_is_an_error_naming_it() {
    let err = Config::default()
        .apply_toml("report_svg = true\n", "g.toml")
        .expect_err("the picture needs the timeline feature");
    let text = err.to_string();
    assert!(
        text.contains("`report_svg` (file g.toml)") && text.contains("`timeline` feature"),
        "{text}"
    );
}
