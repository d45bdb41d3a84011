use super::*;

fn unix(signals: &[Signal]) -> Distinct<Signal> {
    distinct_by(signals, |s| Some(listens_for(s).unix), unix_own_name)
}

fn windows(signals: &[Signal]) -> Distinct<Console> {
    distinct_by(signals, |s| listens_for(s).windows, windows_own_name)
}

fn names<E>(d: &Distinct<E>) -> Vec<Signal> {
    d.kept.iter().map(|(s, _)| *s).collect()
}

#[test]
fn names_of_one_os_event_are_listened_for_once() {
    let d = unix(&[Signal::Int, Signal::CtrlBreak, Signal::Int]);
    assert_eq!(names(&d), [Signal::Int]);
    assert_eq!(d.dropped, [(Signal::CtrlBreak, Signal::Int)]);
    let d = windows(&[Signal::Quit, Signal::CtrlBreak, Signal::Int]);
    assert_eq!(names(&d), [Signal::CtrlBreak, Signal::Int]);
    assert_eq!(d.dropped, [(Signal::Quit, Signal::CtrlBreak)]);
}

#[test]
fn an_event_is_named_by_the_platforms_own_name_when_configured() {
    let d = unix(&[Signal::CtrlBreak, Signal::Term, Signal::Int]);
    assert_eq!(names(&d), [Signal::Int, Signal::Term]);
    assert_eq!(d.dropped, [(Signal::CtrlBreak, Signal::Int)]);
    let d = unix(&[Signal::CtrlShutdown, Signal::CtrlBreak, Signal::CtrlClose]);
    assert_eq!(
        names(&d),
        [Signal::CtrlShutdown, Signal::CtrlBreak, Signal::CtrlClose],
        "with no Unix name configured, the first name of each signal"
    );
    let d = windows(&[Signal::Term, Signal::Hup, Signal::CtrlShutdown]);
    assert_eq!(names(&d), [Signal::CtrlShutdown, Signal::Hup]);
}

#[test]
fn the_default_lists_and_the_unix_list_on_windows_are_one_listener_per_name() {
    for (list, d) in [
        (
            &Signal::UNIX_DEFAULTS[..],
            names(&unix(&Signal::UNIX_DEFAULTS)),
        ),
        (
            &Signal::WINDOWS_DEFAULTS[..],
            names(&windows(&Signal::WINDOWS_DEFAULTS)),
        ),
        // A configuration written for Unix, run on Windows: three different events.
        (
            &Signal::UNIX_DEFAULTS[..],
            names(&windows(&Signal::UNIX_DEFAULTS)),
        ),
    ] {
        assert_eq!(d, list);
    }
    assert_eq!(names(&distinct(&Signal::defaults())), Signal::defaults());
}

#[test]
fn signals_without_a_console_event_are_not_listened_for_on_windows() {
    let d = windows(&[Signal::Usr1, Signal::Int, Signal::Usr2]);
    assert_eq!(names(&d), [Signal::Int]);
    assert_eq!(d.absent, [Signal::Usr1, Signal::Usr2]);
    assert!(unix(&[Signal::Usr1]).absent.is_empty());
}

#[test]
fn only_close_logoff_and_shutdown_have_a_budget_and_it_is_within_what_windows_gives() {
    for event in [Console::Close, Console::Logoff, Console::Shutdown] {
        let budget = event.budget().expect("a budget");
        assert!(budget < WINDOWS_END_AFTER, "{event:?}: {budget:?}");
        assert!(!budget.is_zero());
    }
    assert_eq!(Console::CtrlC.budget(), None);
    assert_eq!(Console::CtrlBreak.budget(), None);
    if cfg!(unix) {
        for sig in Signal::ALL {
            assert_eq!(budget(sig), None, "no budget on Unix: {sig}");
        }
    }
}

/// The platform table of docs/operations.md: one row per name, its Unix signal, its Windows
/// event and whether each platform listens for it by default, as [`listens_for`] says.
#[test]
fn the_docs_platform_table_matches_the_mapping() {
    let doc = include_str!("../../../../docs/operations.md");
    let mark = |on: bool| if on { "yes" } else { "" };
    let mut missing = Vec::new();
    for sig in Signal::ALL {
        let l = listens_for(sig);
        let windows = l
            .windows
            .map_or("none".to_string(), |e| format!("`{}`", e.name()));
        let row = format!(
            "| `{sig}` | `{}` | {windows} | {} | {} |",
            l.unix,
            mark(Signal::UNIX_DEFAULTS.contains(&sig)),
            mark(Signal::WINDOWS_DEFAULTS.contains(&sig)),
        );
        if !doc.lines().any(|line| line.starts_with(&row)) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/operations.md lacks these rows (first columns; the meaning follows):\n{}",
        missing.join("\n")
    );
}
