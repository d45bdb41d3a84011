//! Timelines of real engine runs of known shapes, drawn as text and SVG; and a report written
//! before the timeline fields existed, which still draws.

use std::time::Duration;

use super::text::{TextOptions, render, visible_width};
use super::{Status, Timeline, svg};
use crate::report::ShutdownReport;
use crate::{BoxError, Graceful, GracefulBuilder, Phase, Res, Resource, RunOutcome, Signal};

fn engine() -> GracefulBuilder {
    Graceful::builder()
        .signals([])
        .timeout(Duration::from_secs(10))
        .drain_timeout(Duration::from_millis(300))
        .resource_close_timeout(Duration::from_millis(300))
}

struct Cache;
struct Db;

fn quick_close<T: Send + Sync + 'static>(name: &'static str, prio: i32, value: T) -> Resource<T> {
    Resource::from_value(name, prio, value).close_with(|_r: Res<T>| async {
        tokio::time::sleep(Duration::from_millis(5)).await;
    })
}

async fn completed() -> RunOutcome {
    engine()
        .resource(quick_close("db", 100, Db))
        .resource(quick_close("cache", 50, Cache))
        .on_phase(Phase::FlushingBuffers, "flush-logs", |_| async { Ok(()) })
        .build()
        .expect("build")
        .run(|s| async move {
            let worker = s.clone();
            s.spawn("worker", async move {
                worker.requested().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            });
            s.trigger("test");
        })
        .await
}

async fn hung_close() -> RunOutcome {
    engine()
        .resource(quick_close("db", 100, Db))
        .resource(
            Resource::from_value("cache", 50, Cache)
                .close_with(|_r: Res<Cache>| std::future::pending::<()>()),
        )
        .build()
        .expect("build")
        .run(|_| async {})
        .await
}

async fn failed_close() -> RunOutcome {
    engine()
        .resource(
            Resource::from_value("db", 100, Db)
                .close_with(|_r: Res<Db>| async { Err::<(), BoxError>("connection reset".into()) }),
        )
        .build()
        .expect("build")
        .run(|_| async {})
        .await
}

async fn abandoned_request() -> RunOutcome {
    engine()
        .build()
        .expect("build")
        .run(|s| async move {
            s.on_abandon(|| vec!["GET /export (running)".to_string()]);
            let guard = s.track();
            tokio::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            s.trigger("test");
        })
        .await
}

/// What a second signal does when the engine does not own the process: it forces the
/// shutdown (with the process, it exits at once and no report is written).
async fn second_signal() -> RunOutcome {
    engine()
        .drain_timeout(Duration::from_secs(8))
        .build()
        .expect("build")
        .run(|s| async move {
            let guard = s.track();
            s.trigger(Signal::Term);
            let s2 = s.clone();
            tokio::spawn(async move {
                let _guard = guard;
                s2.requested().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                s2.force(Signal::Term);
                std::future::pending::<()>().await
            });
        })
        .await
}

fn timeline(report: &ShutdownReport) -> Timeline {
    Timeline::from_report(report)
}

fn plain(t: &Timeline) -> String {
    render(t, TextOptions::default())
}

fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(
            visible_width(line) <= width,
            "wider than {width}: {line:?}\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_shutdown_draws_every_phase_close_and_hook_in_time() {
    let out = completed().await;
    let r = &out.report;
    assert_eq!(r.result, Phase::Completed, "{r}");
    // The report holds the timeline: offsets for hooks, the drain, the deadlines set.
    let hook = &r.hooks[0];
    let flushing = r
        .phases
        .iter()
        .find(|p| p.phase == Phase::FlushingBuffers)
        .expect("flushing");
    assert!(hook.started >= flushing.started, "{hook:?} {flushing:?}");
    let drain = r.drain.as_ref().expect("drain record");
    assert!(drain.drained_at.is_some() && drain.abandoned_at.is_none());
    // The worker ended on its own, at least 20 ms after the trigger, before the drain ended.
    assert_eq!(drain.ended.len(), 1, "{drain:?}");
    assert_eq!(drain.ended[0].name, "worker");
    assert!(drain.ended[0].at >= Duration::from_millis(20), "{drain:?}");
    assert!(Some(drain.ended[0].at) <= drain.drained_at, "{drain:?}");
    let whats: Vec<&str> = r.limits.iter().map(|l| l.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "timeout",
            "drain_timeout",
            "close priority 50",
            "close priority 100"
        ]
    );
    assert!(r.limits.iter().all(|l| l.met), "{:?}", r.limits);

    let t = timeline(r);
    // `main` may or may not have returned when the drain began: 1 or 2 in flight.
    let labels: Vec<&str> = t
        .rows
        .iter()
        .map(|r| {
            if r.label.starts_with("drain: ") {
                "drain"
            } else {
                r.label.as_str()
            }
        })
        .collect();
    assert_eq!(
        labels,
        [
            "initiated",
            "stopping_new_requests",
            "draining_connections",
            "drain",
            "task worker",
            "saving_state",
            "closing_resources",
            "p50 cache",
            "p100 db",
            "flushing_buffers",
            "hook flush-logs",
        ]
    );
    assert!(t.rows.iter().all(|r| r.status == Status::Ok), "{t:?}");
    assert!(t.blockers.is_empty());
    let text = plain(&t);
    assert_fits(&text, 80);
    let first = text.lines().next().expect("summary");
    assert!(first.starts_with("COMPLETED in "), "{text}");
    assert!(first.contains(" · longest: "), "{text}");
    assert!(!text.contains('!') && !text.contains('\x1b'), "{text}");
    assert!(text.contains("  p50 cache"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("    drain_timeout") && l.ends_with(" met")),
        "{text}"
    );

    let svg = svg::render(&t);
    assert_eq!(svg.matches("<g class=\"row ").count(), t.rows.len());
    assert!(!svg.contains("class=\"row close late\""));
    assert!(svg.contains(">p50 cache</text>"), "{svg}");
    assert!(!svg.contains("<script"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_close_is_highlighted_and_named_as_the_blocker() {
    let out = hung_close().await;
    let r = &out.report;
    assert_eq!(r.result, Phase::Forced, "{r}");
    let class = r
        .limits
        .iter()
        .find(|l| l.what == "close priority 50")
        .expect("class deadline");
    assert!(!class.met);
    assert!(
        r.limits
            .iter()
            .any(|l| l.what == "close priority 100" && l.met)
    );

    let t = timeline(r);
    let cache = t.rows.iter().find(|r| r.label == "p50 cache").expect("row");
    assert_eq!(cache.status, Status::Late);
    assert!(cache.duration() >= Duration::from_millis(300), "{cache:?}");
    assert!(t.blockers[0].contains("resource `cache` (priority 50) did not close"));
    let summary = t.summary();
    assert!(
        summary.starts_with("FORCED in ") && summary.contains(" · longest: p50 cache "),
        "{summary}"
    );
    assert!(
        summary.contains("ms, past its deadline · main returned"),
        "{summary}"
    );

    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(text.starts_with("FORCED in "), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("p50 cache") && l.contains('#'))
        .unwrap_or_else(|| panic!("no late bar for the cache:\n{text}"));
    assert!(line.starts_with('!'), "flagged: {line}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("!   close priority 50") && l.ends_with("MISSED")),
        "{text}"
    );
    let coloured = render(
        &t,
        TextOptions {
            width: 80,
            colour: true,
        },
    );
    assert!(coloured.contains("\x1b[1;31m! "), "{coloured}");
    assert_fits(&coloured, 80);

    let svg = svg::render(&t);
    let late = svg
        .split("<g ")
        .find(|g| g.starts_with("class=\"row close late\""))
        .unwrap_or_else(|| panic!("no late close row:\n{svg}"));
    assert!(late.contains("<title>p50 cache: "), "{late}");
    assert!(late.contains("timed out"), "{late}");
    assert!(late.contains("font-weight=\"bold\""), "{late}");
    assert!(svg.contains("class=\"deadline missed\""), "{svg}");
    assert!(svg.contains("class=\"blocker\""), "{svg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_close_is_drawn_with_its_error() {
    let out = failed_close().await;
    let t = timeline(&out.report);
    let db = t.rows.iter().find(|r| r.label == "p100 db").expect("row");
    assert_eq!(db.status, Status::Failed);
    assert_eq!(db.note, "failed: connection reset");
    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(
        text.contains("  x p100 db: failed: connection reset"),
        "{text}"
    );
    let svg = svg::render(&t);
    assert!(svg.contains("class=\"row close failed\""), "{svg}");
    assert!(svg.contains("failed: connection reset</title>"), "{svg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_request_is_a_row_past_the_drain_deadline() {
    let out = abandoned_request().await;
    let r = &out.report;
    assert_eq!(r.result, Phase::Forced);
    let drain = r.drain.as_ref().expect("drain record");
    // The request, and `main` if it had not returned yet when the drain began.
    assert!((1..=2).contains(&drain.in_flight), "{drain:?}");
    assert!(drain.drained_at.is_none() && drain.abandoned_at.is_some());
    assert!(r.limits.iter().any(|l| l.what == "drain_timeout" && !l.met));

    let t = timeline(r);
    let row = t
        .rows
        .iter()
        .find(|r| r.label == "GET /export (running)")
        .unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(row.status, Status::Late);
    assert!(row.duration() >= Duration::from_millis(300), "{row:?}");
    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(
        text.contains("! `GET /export (running)` was still running at the drain deadline"),
        "{text}"
    );
    let svg = svg::render(&t);
    assert!(svg.contains("class=\"row abandoned late\""), "{svg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_forces_and_the_drain_is_drawn_as_cut_short() {
    let out = second_signal().await;
    let r = &out.report;
    assert_eq!(r.result, Phase::Forced, "{r}");
    let t = timeline(r);
    assert_eq!(t.reason.as_deref(), Some("signal Term"));
    let draining = t
        .rows
        .iter()
        .find(|r| r.label == "draining_connections")
        .expect("row");
    // Cut short by the second signal, long before its 8 s deadline: no deadline expired, so
    // the phase is not late; the drain inside it is drawn as not drained.
    assert_eq!(draining.status, Status::Ok);
    assert!(draining.duration() < Duration::from_secs(8), "{draining:?}");
    let drain = t
        .rows
        .iter()
        .find(|r| r.label.starts_with("drain: "))
        .expect("drain row");
    assert_eq!(drain.status, Status::Late, "{drain:?}");
    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(text.starts_with("FORCED in "), "{text}");
    assert!(t.summary().ends_with(" · signal Term"), "{}", t.summary());
    assert!(
        text.lines()
            .any(|l| l.starts_with("!") && l.contains("drain: ")),
        "{text}"
    );
}

/// A report written by the engine before the timeline fields (hook offsets, `drain`,
/// `limits`) existed: the stuck close of `examples/hung_resource.rs`.
const BEFORE_TIMELINE: &str = include_str!("testdata/forced-by-hung-close.before-timeline.json");

#[test]
fn a_report_from_before_the_timeline_fields_still_draws() {
    let t = Timeline::from_json(BEFORE_TIMELINE).expect("an older report reads");
    assert_eq!(t.result, "forced");
    assert_eq!(t.reason.as_deref(), Some("signal Int"));
    assert_eq!(t.rows.iter().filter(|r| !r.is_nested()).count(), 6);
    let stuck = t
        .rows
        .iter()
        .find(|r| r.label == "p10 stuck_client")
        .expect("row");
    assert_eq!(stuck.status, Status::Late);
    // Its missed deadline is placed from its phase's start.
    assert_eq!(t.deadlines.len(), 1);
    assert!(!t.deadlines[0].met);
    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(
        text.contains("resource `stuck_client` (priority 10) did not close"),
        "{text}"
    );
    let svg = svg::render(&t);
    assert!(svg.contains("class=\"row close late\""));
}

#[test]
fn bad_input_is_an_error_that_says_what_was_expected() {
    let e = Timeline::from_json("{\"phases\": 3}").expect_err("phases is not a list");
    let msg = e.to_string();
    assert!(msg.starts_with("not a shutdown report"), "{msg}");
    assert!(msg.contains("last-shutdown.json"), "{msg}");
    // Nothing at all is a report of nothing, not an error: every field is optional.
    let t = Timeline::from_json("{}").expect("empty");
    assert_eq!(t.result, "running");
    assert_fits(&plain(&t), 80);
}

#[test]
fn labels_and_markup_are_escaped_in_the_svg() {
    let t = Timeline::from_json(
        r#"{"result":"completed","total":0.1,"phases":[{"phase":"closing_resources","started":0,"duration":0.1}],
            "resources":[{"name":"<a&b>","priority":1,"outcome":{"status":"closed"},"started":0,"finished":0.1}]}"#,
    )
    .expect("reads");
    let svg = svg::render(&t);
    assert!(svg.contains("p1 &lt;a&amp;b&gt;"), "{svg}");
    assert!(!svg.contains("<a&b>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_svg_writes_the_picture_beside_the_report() {
    let dir = std::env::temp_dir().join(format!("graceful-timeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = engine()
        .state_dir(&dir)
        .report_svg(true)
        .resource(quick_close("db", 100, Db))
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let svg = std::fs::read_to_string(dir.join(super::LAST_SVG_FILE)).expect("svg written");
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.contains(">p100 db</text>"), "{svg}");
    assert_eq!(svg, svg::render(&Timeline::from_report(&out.report)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_svg_without_a_state_dir_is_an_error_naming_both_keys() {
    let e = Graceful::builder()
        .report_svg(true)
        .build()
        .expect_err("nowhere to write");
    let msg = e.to_string();
    assert!(msg.contains("report_svg"), "{msg}");
    assert!(
        msg.contains("set `state_dir` (`SHUTDOWN_STATE_DIR`)"),
        "{msg}"
    );
}

/// A forced drain's report with `n` requests: the first abandoned, the second dropped by
/// its client, then served and refused ones in turn.
fn drain_with_requests(n: usize, not_kept: u64) -> String {
    let requests: Vec<String> = (0..n)
        .map(|i| {
            let outcome = match i {
                0 => "abandoned",
                1 => "dropped",
                _ if i % 2 == 0 => "served",
                _ => "refused",
            };
            format!(
                r#"{{"method":"GET","path":"/r{i}","started":0.0{i},"ended":0.5,"outcome":"{outcome}"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"result":"forced","total":1.0,
            "phases":[{{"phase":"draining_connections","started":0.0,"duration":1.0,"within_deadline":false}}],
            "drain":{{"in_flight":{n},"abandoned_at":1.0}},
            "abandoned":["http GET /r0 from 127.0.0.1:5000, running 1.0s"],
            "requests":[{}],"requests_not_kept":{not_kept}}}"#,
        requests.join(",")
    )
}

#[test]
fn each_drained_request_is_a_row_inside_the_drain() {
    let t = Timeline::from_json(&drain_with_requests(3, 0)).expect("reads");
    let rows: Vec<(&str, Status)> = t
        .rows
        .iter()
        .map(|r| (r.label.as_str(), r.status))
        .collect();
    assert_eq!(
        rows,
        [
            ("draining_connections", Status::Late),
            ("drain: 3 in flight", Status::Late),
            ("GET /r0", Status::Late),
            ("GET /r1", Status::Failed),
            ("GET /r2", Status::Ok),
        ],
        "the abandoned request is drawn once, as a request"
    );
    assert!(
        t.blockers.iter().any(|b| b.contains("GET /r0")),
        "{:?}",
        t.blockers
    );
    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(text.contains("!   GET /r0"), "{text}");
    assert!(text.contains("x   GET /r1"), "{text}");
    let svg = svg::render(&t);
    assert_eq!(svg.matches(r#"<g class="row request "#).count(), 3, "{svg}");
    assert!(svg.contains("GET /r2: "), "hover title: {svg}");
}

#[test]
fn requests_past_the_cap_share_one_row_that_counts_them() {
    let n = super::REQUEST_ROWS + 5;
    let t = Timeline::from_json(&drain_with_requests(n, 7)).expect("reads");
    let requests: Vec<&super::Row> = t
        .rows
        .iter()
        .filter(|r| r.kind == super::RowKind::Request)
        .collect();
    assert_eq!(requests.len(), super::REQUEST_ROWS + 1);
    let more = requests.last().expect("the +N row");
    assert_eq!(more.label, "+12 more requests");
    assert!(more.note.contains("refused, not listed"), "{}", more.note);
    assert_eq!(requests[0].label, "GET /r0", "abandoned first");
    let text = plain(&t);
    assert_fits(&text, 80);
    assert!(text.contains("+12 more requests"), "{text}");
}

#[test]
fn a_report_without_requests_draws_as_before() {
    let t = Timeline::from_json(BEFORE_TIMELINE).expect("reads");
    assert!(t.rows.iter().all(|r| r.kind != super::RowKind::Request));
    // An abandoned request without its own row keeps its abandoned row.
    let mut json: serde_json::Value =
        serde_json::from_str(&drain_with_requests(1, 0)).expect("json");
    json.as_object_mut().expect("object").remove("requests");
    let t = Timeline::from_value(json).expect("reads");
    assert!(
        t.rows
            .iter()
            .any(|r| r.kind == super::RowKind::Abandoned && r.label.contains("GET /r0")),
        "{t:?}"
    );
}
