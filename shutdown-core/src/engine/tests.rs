//! In-process tests of the engine. Process-level behaviour (signals, exit codes, the
//! watchdog) is tested with real child processes in the facade's `tests/`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::report::{CloseOutcome, MainOutcome};
use crate::{BoxError, Graceful, GracefulBuilder, Phase, Res, Resource, Resources, ShutdownReason};

/// A log of close events shared by the resources of one test.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, s: impl Into<String>) {
        self.0.lock().expect("log").push(s.into());
    }
    fn lines(&self) -> Vec<String> {
        self.0.lock().expect("log").clone()
    }
}

fn engine() -> GracefulBuilder {
    Graceful::builder()
        .signals([])
        .timeout(Duration::from_secs(10))
        .drain_timeout(Duration::from_secs(2))
        .resource_close_timeout(Duration::from_secs(1))
}

macro_rules! newtype {
    ($($name:ident),*) => { $( #[derive(Debug)] struct $name; )* };
}
newtype!(A, B, C, D, E);

fn logged<T: Send + Sync + 'static>(
    log: &Log,
    name: &'static str,
    prio: i32,
    value: T,
) -> Resource<T> {
    let log = log.clone();
    Resource::from_value(name, prio, value).close_with(move |_r: Res<T>| async move {
        log.push(format!("start {name}"));
        tokio::time::sleep(Duration::from_millis(30)).await;
        log.push(format!("end {name}"));
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_in_ascending_priority_and_equal_priority_concurrently() {
    let log = Log::default();
    let outcome = engine()
        .resource(logged(&log, "db", 100, A))
        .resource(logged(&log, "cache", 50, B))
        .resource(logged(&log, "queue", 50, C))
        .resource(logged(&log, "http", 10, D))
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    assert_eq!(
        outcome.report.result,
        Phase::Completed,
        "{}",
        outcome.report
    );
    assert_eq!(outcome.code(), Some(0));
    let lines = log.lines();
    let pos = |s: &str| {
        lines
            .iter()
            .position(|l| l == s)
            .unwrap_or_else(|| panic!("{s} missing in {lines:?}"))
    };
    assert!(pos("end http") < pos("start cache") && pos("end http") < pos("start queue"));
    // Equal priority: both started before either finished.
    assert!(
        pos("start cache") < pos("end queue") && pos("start queue") < pos("end cache"),
        "{lines:?}"
    );
    assert!(pos("end cache") < pos("start db") && pos("end queue") < pos("start db"));
    let r = &outcome.report;
    let (cache, queue) = (
        r.resource("cache").expect("cache"),
        r.resource("queue").expect("queue"),
    );
    assert!(
        cache.started < queue.finished && queue.started < cache.finished,
        "report shows overlap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_failing_and_panicking_closes_are_reported_and_the_rest_close() {
    let log = Log::default();
    let outcome = engine()
        .resource(logged(&log, "db", 100, A))
        .resource(
            Resource::from_value("hung", 50, B).close_with(|_r: Res<B>| async {
                std::future::pending::<()>().await;
            }),
        )
        .resource(
            Resource::from_value("erroring", 20, C)
                .close_with(|_r: Res<C>| async { Err::<(), BoxError>("disk full".into()) }),
        )
        .resource(
            Resource::from_value("panicking", 20, D).close_with(|_r: Res<D>| async {
                if true {
                    panic!("close exploded");
                }
            }),
        )
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let r = &outcome.report;
    assert_eq!(r.result, Phase::Forced, "{r}");
    assert_eq!(outcome.code(), Some(crate::exit::FORCED));
    assert_eq!(
        r.resource("hung").expect("hung").outcome,
        CloseOutcome::TimedOut
    );
    assert_eq!(
        r.resource("erroring").expect("e").outcome,
        CloseOutcome::Failed("disk full".into())
    );
    assert_eq!(
        r.resource("panicking").expect("p").outcome,
        CloseOutcome::Panicked("close exploded".into())
    );
    assert_eq!(
        r.resource("db").expect("db").outcome,
        CloseOutcome::Closed,
        "the next class still closes"
    );
    assert!(log.lines().contains(&"end db".to_string()));
    assert!(
        r.deadlines
            .iter()
            .any(|d| d.what == "hung" && d.phase == Phase::ClosingResources)
    );
    let errors = r.errors().join("\n");
    assert!(
        errors.contains("`erroring` failed to close: disk full"),
        "{errors}"
    );
    assert!(errors.contains("`panicking` panicked"), "{errors}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_budget_bounds_a_whole_class() {
    let outcome = engine()
        .resource_close_timeout(Duration::from_secs(5))
        .class_budget(50, Duration::from_millis(100))
        .resource(
            Resource::from_value("slow", 50, A).close_with(|_r: Res<A>| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }),
        )
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let slow = outcome.report.resource("slow").expect("slow");
    assert_eq!(slow.outcome, CloseOutcome::TimedOut);
    assert_eq!(
        outcome.report.deadlines[0].limit,
        Duration::from_millis(100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_constructor_closes_only_what_was_built_and_names_location() {
    let log = Log::default();
    let outcome = engine()
        .resource(logged(&log, "db", 100, A))
        .resource(
            Resource::new("cache", 50, |_| async {
                Err::<B, _>(std::io::Error::other("connection refused"))
            })
            .at("src/resources.rs", 42),
        )
        .resource(logged(&log, "never", 10, C))
        .build()
        .expect("build")
        .run(|_| async {
            if true {
                panic!("main must not run");
            }
        })
        .await;
    let r = &outcome.report;
    let err = r.startup_error.clone().expect("startup error");
    assert!(
        err.contains("resource `cache` (src/resources.rs:42) failed to start: connection refused"),
        "{err}"
    );
    assert_eq!(outcome.code(), Some(crate::exit::STARTUP_FAILED));
    assert_eq!(r.main, MainOutcome::NotStarted);
    let names: Vec<&str> = r.resources.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["db"], "only what was built is closed");
    assert_eq!(log.lines(), ["start db", "end db"]);
}

#[tokio::test]
async fn panicking_constructor_is_a_startup_error() {
    let outcome = engine()
        .resource(Resource::new("boom", 1, |_| async {
            if true {
                panic!("constructor exploded");
            }
            Ok::<A, BoxError>(A)
        }))
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let err = outcome.report.startup_error.clone().expect("error");
    assert!(
        err.contains("`boom`") && err.contains("constructor exploded"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_error_still_closes_resources_and_exits_non_zero() {
    let log = Log::default();
    let outcome = engine()
        .resource(logged(&log, "db", 100, A))
        .build()
        .expect("build")
        .run(|_| async { Err::<(), _>("boom") })
        .await;
    assert_eq!(outcome.code(), Some(crate::exit::MAIN_ERROR));
    assert_eq!(outcome.report.main, MainOutcome::Error("\"boom\"".into()));
    assert!(matches!(
        outcome.report.reason,
        Some(ShutdownReason::MainFailed { .. })
    ));
    assert_eq!(log.lines(), ["start db", "end db"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_code_from_main_wins() {
    let outcome = engine()
        .build()
        .expect("build")
        .run(|_| async { std::process::ExitCode::from(7) })
        .await;
    assert_eq!(outcome.code(), None);
    assert_eq!(outcome.exit_code(), std::process::ExitCode::from(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_triggers_start_exactly_one_shutdown() {
    let graceful = engine().build().expect("build");
    let shutdown = graceful.shutdown();
    let mut events = shutdown.events();
    let outcome = graceful
        .run(|s| async move {
            let mut handles = Vec::new();
            for i in 0..16 {
                let s = s.clone();
                handles.push(tokio::spawn(
                    async move { s.trigger(format!("caller {i}")) },
                ));
            }
            let mut started = 0;
            for h in handles {
                started += usize::from(h.await.expect("join"));
            }
            assert_eq!(started, 1, "exactly one trigger starts the shutdown");
        })
        .await;
    let mut initiated = 0;
    while let Ok(e) = events.try_recv() {
        if e == (crate::Event::Phase {
            phase: Phase::Initiated,
        }) {
            initiated += 1;
        }
    }
    assert_eq!(initiated, 1);
    assert!(matches!(
        outcome.report.reason,
        Some(ShutdownReason::Requested { .. })
    ));
    assert_eq!(
        outcome.report.phases.len(),
        6,
        "one walk through the phases"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_waits_for_guards_and_ends_when_the_last_drops() {
    let graceful = engine()
        .drain_timeout(Duration::from_secs(8))
        .build()
        .expect("build");
    let shutdown = graceful.shutdown();
    let guard = shutdown.track();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let s = shutdown.clone();
        tokio::spawn(async move {
            let mut phase = s.phase();
            phase
                .wait_for(|p| *p == Phase::DrainingConnections)
                .await
                .expect("phase");
            // The drain is blocked by our guard: the phase must not move on by itself.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let still = s.current_phase();
            drop(guard);
            let _ = tx.send(());
            still
        })
    };
    let outcome = graceful
        .run(|s| async move {
            s.trigger("test");
        })
        .await;
    rx.await.expect("watcher ran");
    assert_eq!(watcher.await.expect("join"), Phase::DrainingConnections);
    assert_eq!(
        outcome.report.result,
        Phase::Completed,
        "drain ended without hitting the deadline"
    );
    let drain = outcome
        .report
        .phases
        .iter()
        .find(|p| p.phase == Phase::DrainingConnections)
        .expect("drain");
    assert!(drain.within_deadline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_for_connections_the_drain_does_not_wait() {
    // A guard held for ever: with the default the drain would wait for its whole 30 s
    // deadline (and the hang guard below would fire); with the key off it goes straight on.
    let run = engine()
        .drain_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(60))
        .wait_for_connections(false)
        .build()
        .expect("build")
        .run(|s| async move {
            std::mem::forget(s.track());
            s.trigger("test");
        });
    let outcome = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("hang guard: the drain waited although wait_for_connections = false");
    let r = &outcome.report;
    assert_eq!(
        r.result,
        Phase::Completed,
        "not waiting is policy, not a missed deadline"
    );
    assert!(
        r.abandoned.iter().any(|a| a.contains("tracked unit")),
        "{:?}",
        r.abandoned
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_deadline_aborts_named_tasks_and_forces() {
    let outcome = engine()
        .drain_timeout(Duration::from_millis(200))
        .build()
        .expect("build")
        .run(|s| async move {
            s.spawn("stubborn-worker", async {
                std::future::pending::<()>().await
            });
            s.on_abandon(|| vec!["GET /slow (1.0s)".to_string()]);
            s.trigger("test");
        })
        .await;
    let r = &outcome.report;
    assert_eq!(r.result, Phase::Forced);
    assert!(
        r.abandoned.iter().any(|a| a == "stubborn-worker"),
        "{:?}",
        r.abandoned
    );
    assert!(
        r.abandoned.iter().any(|a| a == "GET /slow (1.0s)"),
        "{:?}",
        r.abandoned
    );
    assert!(r.deadlines.iter().any(|d| d.what == "drain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_that_ignores_shutdown_is_aborted_at_the_drain_deadline() {
    let graceful = engine()
        .drain_timeout(Duration::from_millis(200))
        .build()
        .expect("build");
    let s = graceful.shutdown();
    s.trigger("test");
    let outcome = graceful.run(|_| std::future::pending::<()>()).await;
    assert_eq!(outcome.report.main, MainOutcome::Aborted);
    assert_eq!(
        outcome.report.abandoned.first().map(String::as_str),
        Some("main")
    );
    assert_eq!(outcome.code(), Some(crate::exit::FORCED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependencies_are_injected_and_close_after_dependents() {
    struct Pool {
        name: &'static str,
    }
    struct Repo {
        pool: Res<Pool>,
    }
    let log = Log::default();
    let l1 = log.clone();
    let l2 = log.clone();
    let outcome = engine()
        .resource(
            Resource::new("repo", 10, |res: Resources| async move {
                Ok::<_, BoxError>(Repo {
                    pool: res.get::<Pool>()?,
                })
            })
            .depends_on::<Pool>()
            .close_owned(move |repo: Repo| async move {
                l1.push(format!("close repo using {}", repo.pool.name))
            }),
        )
        .resource(
            Resource::from_value("pool", 20, Pool { name: "pg" })
                .close_owned(move |_p: Pool| async move { l2.push("close pool") }),
        )
        .build()
        .expect("build")
        .run(|s| async move {
            let repo = s.resources().get::<Repo>().expect("repo");
            assert_eq!(repo.pool.name, "pg");
        })
        .await;
    assert_eq!(
        log.lines(),
        ["close repo using pg", "close pool"],
        "{}",
        outcome.report
    );
    assert_eq!(
        outcome.report.result,
        Phase::Completed,
        "{}",
        outcome.report
    );
}

#[tokio::test]
async fn contradicting_priorities_are_a_startup_error_naming_both() {
    struct Pool;
    struct Repo;
    let outcome = engine()
        .resource(Resource::from_value("pool", 5, Pool))
        .resource(
            Resource::new("repo", 10, |_| async { Ok::<_, BoxError>(Repo) }).depends_on::<Pool>(),
        )
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let err = outcome.report.startup_error.clone().expect("error");
    assert!(
        err.contains("`repo` (priority 10) depends on `pool` (priority 5)"),
        "{err}"
    );
    assert_eq!(outcome.code(), Some(crate::exit::STARTUP_FAILED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_value_close_with_live_handles_is_reported() {
    struct Conn;
    let outcome = engine()
        .resource(Resource::from_value("conn", 1, Conn).close_owned(|_c: Conn| async {}))
        .build()
        .expect("build")
        .run(|s| async move {
            let leaked = s.resources().get::<Conn>().expect("conn");
            std::mem::forget(leaked);
        })
        .await;
    match &outcome.report.resource("conn").expect("conn").outcome {
        CloseOutcome::Failed(e) => assert!(e.contains("1 other `Res<"), "{e}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_in_their_phase_and_failures_are_recorded() {
    let log = Log::default();
    let (l1, l2) = (log.clone(), log.clone());
    let outcome = engine()
        .on_phase(Phase::SavingState, "save", move |s| async move {
            l1.push(format!("save during {}", s.current_phase()));
            Ok(())
        })
        .on_phase(Phase::FlushingBuffers, "flush", move |_| async move {
            l2.push("flush");
            Err("collector unreachable".into())
        })
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    assert_eq!(log.lines(), ["save during saving_state", "flush"]);
    let flush = outcome
        .report
        .hooks
        .iter()
        .find(|h| h.name == "flush")
        .expect("flush");
    assert_eq!(
        flush.outcome,
        CloseOutcome::Failed("collector unreachable".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_reports_phase_and_resources() {
    let graceful = engine()
        .resource(Resource::from_value("a", 1, A))
        .build()
        .expect("build");
    let shutdown = graceful.shutdown();
    assert_eq!(shutdown.progress().phase, Phase::Running);
    assert_eq!(
        shutdown.readiness().reasons,
        [crate::Readiness::STARTING],
        "not ready before start-up"
    );
    let outcome = graceful
        .run(|s| async move {
            assert!(s.is_ready(), "{:?}", s.readiness());
            let hold = s.not_ready("warming cache");
            assert_eq!(s.readiness().reasons, ["warming cache"]);
            drop(hold);
            assert!(s.is_ready());
        })
        .await;
    let p = shutdown.progress();
    assert_eq!(p.phase, Phase::Completed);
    assert_eq!((p.resources_closed, p.resources_total), (1, 1));
    assert!(!shutdown.is_ready());
    assert_eq!(shutdown.report(), Some(&*outcome.report));
}

#[cfg(feature = "serde")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_is_written_to_the_state_dir() {
    let dir = std::env::temp_dir().join(format!("graceful-report-{}", std::process::id()));
    let _ = engine()
        .state_dir(&dir)
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let json = crate::report::read_last(&dir)
        .expect("written")
        .expect("valid");
    assert_eq!(json["result"], "completed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn missing_resource_error_names_the_type_and_the_linking_rule() {
    let graceful = engine().build().expect("build");
    let err = graceful
        .shutdown()
        .resources()
        .get::<E>()
        .expect_err("not registered")
        .to_string();
    assert!(
        err.contains("::E`") && err.contains("use that_crate as _;"),
        "{err}"
    );
}

#[tokio::test]
async fn too_few_resources_explains_the_linking_rule() {
    let outcome = engine()
        .expect_resources(2)
        .resource(Resource::from_value("only", 1, A))
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let err = outcome.report.startup_error.clone().expect("error");
    assert!(
        err.contains("expected at least 2 registered resource(s), found 1: only"),
        "{err}"
    );
    assert!(err.contains("use that_crate as _;"), "{err}");
    assert_eq!(outcome.code(), Some(crate::exit::STARTUP_FAILED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_only_resources_are_dropped_and_a_panicking_drop_is_reported() {
    struct Plain;
    struct Loud(Log);
    impl Drop for Loud {
        fn drop(&mut self) {
            self.0.push("dropped loud");
        }
    }
    struct Exploding;
    impl Drop for Exploding {
        fn drop(&mut self) {
            panic!("drop exploded");
        }
    }
    let log = Log::default();
    let outcome = engine()
        .resource(Resource::from_value("plain", 3, Plain))
        .resource(Resource::from_value("loud", 2, Loud(log.clone())))
        .resource(Resource::from_value("exploding", 1, Exploding))
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let r = &outcome.report;
    assert_eq!(
        r.resource("plain").expect("plain").outcome,
        CloseOutcome::Closed
    );
    assert_eq!(
        r.resource("loud").expect("loud").outcome,
        CloseOutcome::Closed
    );
    assert_eq!(log.lines(), ["dropped loud"]);
    assert_eq!(
        r.resource("exploding").expect("exploding").outcome,
        CloseOutcome::Panicked("drop exploded".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_close_marks_the_closing_phase_as_past_its_deadline() {
    let outcome = engine()
        .resource(
            Resource::from_value("hung", 50, A)
                .close_with(|_r: Res<A>| std::future::pending::<()>()),
        )
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let r = &outcome.report;
    let closing = r
        .phases
        .iter()
        .find(|p| p.phase == Phase::ClosingResources)
        .expect("closing phase");
    assert!(!closing.within_deadline, "{r}");
    assert_eq!(r.deadlines.len(), 1, "{r:?}");
    assert_eq!(r.deadlines[0].phase, Phase::ClosingResources);
    assert_eq!(r.deadlines[0].what, "hung");
    assert_eq!(r.deadlines[0].limit, Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_task_that_panics_itself_keeps_its_record() {
    // A close function that panics before it returns its future panics the engine's own
    // close task, not the close future the engine awaits.
    let mut spec = Resource::from_value("exploding", 50, A).into_spec();
    spec.close = Some(Box::new(|_| panic!("close task exploded")));
    let outcome = engine()
        .resource_spec(spec)
        .resource(Resource::from_value("db", 100, B).close_with(|_r: Res<B>| async {}))
        .build()
        .expect("build")
        .run(|_| async {})
        .await;
    let r = &outcome.report;
    assert_eq!(
        r.resource("exploding").map(|x| &x.outcome),
        Some(&CloseOutcome::Panicked("close task exploded".into())),
        "{r}"
    );
    assert_eq!(
        r.resource("db").map(|x| &x.outcome),
        Some(&CloseOutcome::Closed)
    );
    assert_eq!(outcome.code(), Some(crate::exit::COMPLETED_WITH_ERRORS));
}

#[tokio::test(flavor = "current_thread")]
async fn exit_codes_follow_the_report() {
    // `fail` starts the shutdown: a fatal failure.
    let outcome = engine()
        .build()
        .expect("build")
        .run(|s: crate::Shutdown| async move {
            s.fail("queue", "connection lost");
        })
        .await;
    assert_eq!(
        outcome.code(),
        Some(crate::exit::FAILED),
        "{}",
        outcome.report
    );
    // A failing close: completed, with errors.
    let failing = engine().resource(
        Resource::from_value("failing", 50, A)
            .close_with(|_r: Res<A>| async { Err::<(), BoxError>("flush failed".into()) }),
    );
    let g = failing.build().expect("build");
    let outcome = g.run(|_| async {}).await;
    assert_eq!(outcome.report.result, Phase::Completed);
    assert_eq!(outcome.code(), Some(crate::exit::COMPLETED_WITH_ERRORS));
    // A failing hook counts the same.
    let hook = engine().on_phase(Phase::SavingState, "save", |_| async {
        Err::<(), BoxError>("disk full".into())
    });
    let g = hook.build().expect("build");
    let outcome = g.run(|_| async {}).await;
    assert_eq!(outcome.code(), Some(crate::exit::COMPLETED_WITH_ERRORS));
    // Nothing failed.
    let g = engine().build().expect("build");
    assert_eq!(g.run(|_| async {}).await.code(), Some(0));
}

#[tokio::test(flavor = "current_thread")]
async fn the_cancellation_token_and_drain_started_follow_the_shutdown() {
    let g = engine().build().expect("build");
    let s = g.shutdown();
    let token = s.cancellation_token();
    let drain = s.drain_started();
    assert!(!token.is_cancelled());
    // Cancelling the child token does not start a shutdown.
    s.cancellation_token().cancel();
    assert!(!s.is_shutting_down());
    let outcome = g
        .run(|s: crate::Shutdown| async move {
            let token = s.cancellation_token();
            let seen = tokio::spawn(async move {
                token.cancelled().await;
                "cancelled"
            });
            s.trigger("test");
            // The drain waits for `main`, so `main` sees the drain start.
            s.drain_started().await;
            assert_eq!(s.current_phase(), Phase::DrainingConnections);
            assert_eq!(seen.await.expect("join"), "cancelled");
        })
        .await;
    assert_eq!(outcome.code(), Some(0), "{}", outcome.report);
    assert!(token.is_cancelled());
    tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .expect("drain_started resolves");
}

#[tokio::test]
async fn resources_released_in_place_are_counted_recorded_and_announced_per_class() {
    let log = Log::default();
    let graceful = engine()
        .resource(Resource::from_value("a", 1, A))
        .resource(Resource::from_value("b", 1, B))
        .resource(logged(&log, "d", 1, D))
        .resource(Resource::from_value("c", 2, C))
        .build()
        .expect("config");
    let shutdown = graceful.shutdown();
    let mut events = shutdown.events();
    let outcome = graceful
        .run(|s| async move {
            s.trigger("test");
        })
        .await;
    let r = &outcome.report;
    assert!(!r.is_forced(), "{r}");
    let order: Vec<&str> = r.resources.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(
        order[3], "c",
        "the higher class closes after the lower one: {order:?}"
    );
    assert!(
        r.resources
            .iter()
            .all(|x| x.outcome == CloseOutcome::Closed)
    );
    let progress = shutdown.progress();
    assert_eq!(
        (progress.resources_closed, progress.resources_total),
        (4, 4)
    );
    assert!(shutdown.resources().get::<A>().is_err(), "released");
    let mut announced = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let crate::Event::ResourceClosed { name, .. } = event {
            announced.push(name);
        }
    }
    announced.sort();
    assert_eq!(announced, ["a", "b", "c", "d"]);
    assert_eq!(log.lines(), ["start d", "end d"]);
}

/// Under edition 2024 a task whose body ends in `panic!` outputs `!`: it is accepted, and its
/// panic is a failure like any other task's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_never_returns_is_accepted_and_its_panic_is_a_failure() {
    let outcome = engine()
        .build()
        .expect("build")
        .run(|s| async move {
            s.spawn("worker", async { panic!("the queue closed") });
            s.requested().await;
        })
        .await;
    let task = outcome.report.failed_task().expect("the panic is recorded");
    assert_eq!(task.name, "worker");
    assert_eq!(
        task.outcome,
        CloseOutcome::Panicked("the queue closed".into())
    );
    assert!(
        matches!(
            &outcome.report.reason,
            Some(ShutdownReason::TaskFailed { task, .. }) if task == "worker"
        ),
        "{:?}",
        outcome.report.reason
    );
}
