use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::*;
use crate::Graceful;

#[test]
fn backoff_doubles_up_to_the_cap() {
    let p = Supervise::new()
        .initial_backoff(Duration::from_millis(100))
        .max_backoff(Duration::from_millis(350));
    assert_eq!(p.backoff(1), Duration::from_millis(100));
    assert_eq!(p.backoff(2), Duration::from_millis(200));
    assert_eq!(p.backoff(3), Duration::from_millis(350));
    assert_eq!(p.backoff(40), Duration::from_millis(350));
}

#[tokio::test]
async fn restarts_after_errors_then_stops_at_shutdown() {
    let graceful = Graceful::builder().signals([]).build().expect("config");
    let runs = Arc::new(AtomicU32::new(0));
    let seen = runs.clone();
    let outcome = graceful
        .run(|shutdown| async move {
            let task = shutdown.supervise_with(
                "flaky",
                Supervise::new().initial_backoff(Duration::from_millis(1)),
                move |stop| {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n < 2 {
                            return Err("boom");
                        }
                        stop.cancelled().await;
                        Ok(())
                    }
                },
            );
            while task.restarts() < 2 || task.state() != TaskState::Running {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert!(
                shutdown
                    .progress()
                    .tasks
                    .iter()
                    .any(|t| t.contains("supervised flaky: running, 2 restart(s)"))
            );
        })
        .await;
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert!(
        outcome.report.errors().is_empty(),
        "{:?}",
        outcome.report.errors()
    );
}

#[tokio::test]
async fn gives_up_after_max_restarts() {
    let graceful = Graceful::builder().signals([]).build().expect("config");
    let outcome = graceful
        .run(|shutdown| async move {
            let task = shutdown.supervise_with(
                "doomed",
                Supervise::new()
                    .initial_backoff(Duration::from_millis(1))
                    .max_restarts(2),
                |_stop| async { Err::<(), _>("always") },
            );
            assert_eq!(
                task.finished().await,
                TaskState::Failed("error: always".into())
            );
            assert_eq!(task.restarts(), 2);
        })
        .await;
    let errors = outcome.report.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("doomed") && e.contains("gave up")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_task_that_ignores_cancellation_is_aborted_and_reported() {
    // The handle leaves `main`, so its final state is asserted where a failure fails the test.
    let handle = Arc::new(std::sync::Mutex::new(None));
    let slot = handle.clone();
    let graceful = Graceful::builder().signals([]).build().expect("config");
    let outcome = graceful
        .run(|shutdown| async move {
            let task = shutdown.supervise_with(
                "stubborn",
                Supervise::new().stop_timeout(Duration::from_millis(50)),
                |_stop| async {
                    std::future::pending::<()>().await;
                    Ok::<_, BoxError>(())
                },
            );
            *slot.lock().expect("lock") = Some(task);
        })
        .await;
    let task = handle.lock().expect("lock").take().expect("supervised");
    assert_eq!(task.state(), TaskState::Aborted);
    let errors = outcome.report.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("stubborn") && e.contains("aborted")),
        "{errors:?}"
    );
}
