//! The record of one shutdown: phases, closes, hooks, missed deadlines, and what is still
//! being waited for.
//!
//! One `Recorder` is created when the phases start. Its clones go to the close and hook tasks
//! and to the watchdog thread, so there is one place that knows what happened and what is
//! still running: the final report and the watchdog's last-resort report are both built from
//! it ([`Recorder::report`]). A missed deadline is recorded in one way only,
//! [`Recorder::missed`], which also marks the current phase as not within its deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

// The tokio clock, so that a test on a paused clock sees its deadlines land exactly.
use tokio::time::Instant;

use crate::error::DeadlineExceeded;
use crate::ids::IdList;
use crate::phase::Phase;
use crate::report::{
    CloseOutcome, DeadlineRecord, DrainRecord, HookRecord, MainOutcome, PhaseRecord,
    ResourceRecord, ShutdownReport, readable,
};
use crate::shutdown::{Event, Shutdown};
use crate::sync::lock;

/// Clocks and records of the running shutdown. Cheap to clone; clones share the record.
#[derive(Clone)]
pub(crate) struct Recorder {
    /// When the shutdown was triggered.
    pub(crate) start: Instant,
    /// The engine's own deadline: a little before the overall timeout, so the engine
    /// finishes and reports before the watchdog would exit the process.
    pub(crate) deadline: Instant,
    /// The overall timeout, recorded as the first of the report's limits.
    timeout: Duration,
    record: Arc<Mutex<Record>>,
}

#[derive(Default)]
struct Record {
    phases: Vec<PhaseRecord>,
    deadlines: Vec<DeadlineExceeded>,
    limits: Vec<DeadlineRecord>,
    drain: Option<DrainRecord>,
    forced: bool,
    current: Option<(Phase, Instant, bool)>,
    resources: Vec<ResourceRecord>,
    hooks: Vec<HookRecord>,
    abandoned: Vec<String>,
    main: Option<MainOutcome>,
    startup_error: Option<String>,
    busy: IdList<(Busy, Instant)>,
    /// The final report took the lists.
    finished: bool,
}

/// Something the engine is waiting for right now.
pub(crate) enum Busy {
    /// A resource's close; the record's outcome and end are filled in if it never finishes.
    Resource(ResourceRecord),
    /// A phase hook.
    Hook {
        /// Its phase.
        phase: Phase,
        /// Its name.
        name: String,
    },
}

impl Busy {
    fn describe(&self, since: Instant) -> String {
        let for_ = since.elapsed();
        match self {
            Busy::Resource(r) => format!("resource `{}` (closing for {for_:.1?})", r.name),
            Busy::Hook { phase, name } => {
                format!("hook `{name}` ({phase}, running for {for_:.1?})")
            }
        }
    }
}

/// Removes its entry from the busy list when dropped (also when the task is aborted).
pub(crate) struct BusyGuard {
    record: Arc<Mutex<Record>>,
    id: u64,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        lock(&self.record).busy.remove(self.id);
    }
}

impl Recorder {
    pub(crate) fn new(start: Instant, timeout: Duration) -> Self {
        let margin = (timeout / 10).min(Duration::from_millis(500));
        Recorder {
            start,
            deadline: start + timeout.saturating_sub(margin),
            timeout,
            record: Arc::default(),
        }
    }

    /// Ends the current phase and enters `phase`.
    pub(crate) fn enter(&self, shutdown: &Shutdown, phase: Phase) {
        self.finish_current();
        lock(&self.record).current = Some((phase, Instant::now(), true));
        shutdown.control().set_phase(phase);
    }

    /// Records that `what` missed its deadline `limit`: the current phase is marked as not
    /// within its deadline, the shutdown's result becomes [`Phase::Forced`], and a
    /// [`Event::Deadline`] is sent. The only way a missed deadline is recorded.
    pub(crate) fn missed(&self, what: impl Into<String>, limit: Duration, shutdown: &Shutdown) {
        let what = what.into();
        {
            let mut r = lock(&self.record);
            r.forced = true;
            let phase = match r.current.as_mut() {
                Some((phase, _, within)) => {
                    *within = false;
                    *phase
                }
                None => shutdown.current_phase(),
            };
            r.deadlines.push(DeadlineExceeded {
                phase,
                what: what.clone(),
                limit,
            });
        }
        shutdown.control().emit(Event::Deadline { what });
    }

    /// Records a deadline the engine set for the current phase: `limit` from `began`, and
    /// whether what it bounded finished in time.
    pub(crate) fn limit(
        &self,
        what: impl Into<String>,
        began: Instant,
        limit: Duration,
        met: bool,
    ) {
        let mut r = lock(&self.record);
        let phase = r.current.map_or(Phase::Initiated, |(p, _, _)| p);
        r.limits.push(DeadlineRecord {
            what: what.into(),
            phase,
            at: began.saturating_duration_since(self.start) + limit,
            limit,
            met,
        });
    }

    /// Records what the drain waited for.
    pub(crate) fn set_drain(&self, drain: DrainRecord) {
        lock(&self.record).drain = Some(drain);
    }

    /// The offset of `at` from the shutdown's start.
    pub(crate) fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.start)
    }

    /// Marks the result as [`Phase::Forced`] without a deadline of its own (work skipped
    /// because the shutdown was forced).
    pub(crate) fn set_forced(&self) {
        lock(&self.record).forced = true;
    }

    /// `true` once a deadline was missed or work was skipped.
    pub(crate) fn is_forced(&self) -> bool {
        lock(&self.record).forced
    }

    pub(crate) fn finish_current(&self) {
        let mut r = lock(&self.record);
        if let Some((phase, began, within)) = r.current.take() {
            let duration = began.elapsed();
            r.phases.push(PhaseRecord {
                phase,
                started: began.duration_since(self.start),
                duration,
                within_deadline: within,
            });
            drop(r);
            tracing::info!(target: "graceful::phase", phase = phase.as_str(), duration = %readable(duration), within_deadline = within, "phase ended");
        }
    }

    /// Time left before the engine's deadline.
    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Notes that the engine waits for `what` until the guard drops.
    pub(crate) fn busy(&self, what: Busy) -> BusyGuard {
        let id = lock(&self.record).busy.insert((what, Instant::now()));
        BusyGuard {
            record: self.record.clone(),
            id,
        }
    }

    /// What the engine is waiting for now, one line each, oldest first.
    pub(crate) fn holders(&self) -> Vec<String> {
        lock(&self.record)
            .busy
            .values()
            .map(|(b, since)| b.describe(*since))
            .collect()
    }

    /// Records finished closes (one lock for all of them).
    pub(crate) fn resources(&self, records: impl IntoIterator<Item = ResourceRecord>) {
        lock(&self.record).resources.extend(records);
    }

    pub(crate) fn hook(&self, record: HookRecord) {
        lock(&self.record).hooks.push(record);
    }

    pub(crate) fn set_abandoned(&self, abandoned: Vec<String>) {
        lock(&self.record).abandoned = abandoned;
    }

    pub(crate) fn set_main(&self, main: MainOutcome) {
        lock(&self.record).main = Some(main);
    }

    pub(crate) fn set_startup_error(&self, error: Option<String>) {
        lock(&self.record).startup_error = error;
    }

    /// The report as it stands. Work still running (a close or hook the engine waits for)
    /// is recorded as timed out and named in `abandoned`; a phase still running is recorded
    /// as not within its deadline. After the last phase, nothing is running and this is the
    /// final report.
    ///
    /// `None` once [`finish`](Recorder::finish) took the record: the final report is then the
    /// engine's ([`Shutdown::report`]).
    pub(crate) fn report(&self, shutdown: &Shutdown, result: Phase) -> Option<ShutdownReport> {
        let mut r = lock(&self.record);
        if r.finished {
            return None;
        }
        Some(self.assemble(&mut r, shutdown, result, false))
    }

    /// The final report, after the last phase. The record's lists are moved into it, not
    /// copied; `keep` is given a copy while the record is still locked, so that a watchdog that
    /// finds the record finished finds the kept report.
    pub(crate) fn finish(
        &self,
        shutdown: &Shutdown,
        result: Phase,
        keep: impl FnOnce(Arc<ShutdownReport>),
    ) -> Arc<ShutdownReport> {
        let mut r = lock(&self.record);
        let report = Arc::new(self.assemble(&mut r, shutdown, result, true));
        r.finished = true;
        keep(report.clone());
        report
    }

    /// Gives the record an empty list with room for every resource record, allocated before
    /// the shutdown started.
    pub(crate) fn use_room(&self, room: Vec<ResourceRecord>) {
        let mut r = lock(&self.record);
        if r.resources.is_empty() {
            r.resources = room;
        }
    }

    /// The report from `r`, whose lists are moved out when `take`, else copied.
    fn assemble(
        &self,
        r: &mut Record,
        shutdown: &Shutdown,
        result: Phase,
        take: bool,
    ) -> ShutdownReport {
        let now = self.start.elapsed();
        let mut phases = grab(&mut r.phases, take);
        if let Some((phase, began, _)) = r.current {
            phases.push(PhaseRecord {
                phase,
                started: began.duration_since(self.start),
                duration: began.elapsed(),
                within_deadline: false,
            });
        }
        let mut resources = grab(&mut r.resources, take);
        let mut hooks = grab(&mut r.hooks, take);
        let mut abandoned = grab(&mut r.abandoned, take);
        for (busy, since) in r.busy.values() {
            abandoned.push(busy.describe(*since));
            match busy {
                Busy::Resource(rec) => resources.push(ResourceRecord {
                    outcome: CloseOutcome::TimedOut,
                    finished: now,
                    ..rec.clone()
                }),
                Busy::Hook { phase, name } => hooks.push(HookRecord {
                    phase: *phase,
                    name: name.clone(),
                    outcome: CloseOutcome::TimedOut,
                    started: since.saturating_duration_since(self.start),
                    duration: since.elapsed(),
                }),
            }
        }
        // Usually in order already (closes are recorded as they end, classes one after another).
        if !resources.is_sorted_by_key(|r| r.started) {
            resources.sort_by_key(|r| r.started);
        }
        // The overall timeout comes first: it bounds everything else.
        let mut limits = Vec::with_capacity(r.limits.len() + 1);
        limits.push(DeadlineRecord {
            what: "timeout".into(),
            phase: Phase::Initiated,
            at: self.timeout,
            limit: self.timeout,
            met: now <= self.timeout,
        });
        limits.extend(grab(&mut r.limits, take));
        let mut report = ShutdownReport {
            result,
            reason: shutdown.reason(),
            phases,
            resources,
            hooks,
            tasks: Vec::new(),
            abandoned,
            drain: if take {
                r.drain.take()
            } else {
                r.drain.clone()
            },
            deadlines: grab(&mut r.deadlines, take),
            limits,
            main: r.main.clone().unwrap_or(MainOutcome::Running),
            startup_error: r.startup_error.clone(),
            http_panics: 0,
            requests: Vec::new(),
            requests_not_kept: 0,
            total: now,
        };
        // The features' parts (failed tasks, handler panics, drained requests) come through the
        // seam.
        shutdown.control().extensions().report(&mut report);
        report
    }
}

/// `v`'s items: moved out when `take`, else copied.
fn grab<T: Clone>(v: &mut Vec<T>, take: bool) -> Vec<T> {
    if take { std::mem::take(v) } else { v.clone() }
}

/// Writes `report` to the state directory (atomically), if one is configured. Without the
/// `serde` feature a `state_dir` is refused by the configuration, so there is nothing to write.
/// What a feature draws from it (the timeline picture) is its end-of-run work.
#[cfg(feature = "serde")]
pub(crate) fn write_report(shutdown: &Shutdown, report: &ShutdownReport) {
    let Some(dir) = &shutdown.config().state_dir.value else {
        return;
    };
    let path = dir.join(crate::report::LAST_REPORT_FILE);
    match crate::fs::atomic_write(&path, report.to_json().as_bytes()) {
        Ok(()) => {
            tracing::debug!(target: "graceful::report", path = %path.display(), "report written")
        }
        Err(e) => {
            tracing::error!(target: "graceful::report", path = %path.display(), "cannot write the shutdown report: {e}")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::resource::{CloseKind, Resources};

    fn shutdown() -> Shutdown {
        Shutdown::new(
            Arc::new(Config::default()),
            Resources::default(),
            Arc::new(crate::engine::ledger::RunState::default()),
        )
    }

    fn record(name: &str) -> ResourceRecord {
        ResourceRecord {
            name: name.into(),
            type_name: "T",
            priority: 1,
            location: None,
            close: CloseKind::Drop,
            outcome: CloseOutcome::Closed,
            started: Duration::ZERO,
            finished: Duration::ZERO,
        }
    }

    #[test]
    fn a_missed_deadline_marks_its_phase_and_forces_the_result() {
        let s = shutdown();
        let rec = Recorder::new(Instant::now(), Duration::from_secs(5));
        rec.enter(&s, Phase::ClosingResources);
        rec.missed("db", Duration::from_secs(1), &s);
        rec.enter(&s, Phase::FlushingBuffers);
        rec.finish_current();
        let report = rec.report(&s, Phase::Forced).expect("not finished");
        assert!(rec.is_forced());
        assert_eq!(report.phases[0].phase, Phase::ClosingResources);
        assert!(!report.phases[0].within_deadline);
        assert!(report.phases[1].within_deadline);
        assert_eq!(report.deadlines[0].phase, Phase::ClosingResources);
        assert_eq!(report.deadlines[0].what, "db");
    }

    #[test]
    fn work_still_running_is_reported_as_timed_out_and_named() {
        let s = shutdown();
        let rec = Recorder::new(Instant::now(), Duration::from_secs(5));
        rec.enter(&s, Phase::ClosingResources);
        rec.resources(vec![record("cache")]);
        let busy = rec.busy(Busy::Resource(record("stuck")));
        let hook = rec.busy(Busy::Hook {
            phase: Phase::ClosingResources,
            name: "flush".into(),
        });
        assert_eq!(rec.holders().len(), 2);
        assert!(rec.holders()[0].starts_with("resource `stuck` (closing for"));
        let report = rec.report(&s, Phase::Forced).expect("not finished");
        assert_eq!(
            report.resource("cache").map(|r| &r.outcome),
            Some(&CloseOutcome::Closed)
        );
        assert_eq!(
            report.resource("stuck").map(|r| &r.outcome),
            Some(&CloseOutcome::TimedOut)
        );
        assert_eq!(report.hooks[0].outcome, CloseOutcome::TimedOut);
        assert!(!report.phases[0].within_deadline, "the phase never ended");
        assert_eq!(report.main, MainOutcome::Running);
        drop((busy, hook));
        assert!(rec.holders().is_empty());
    }
}
