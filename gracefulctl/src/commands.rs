//! One function per subcommand; [`run`] dispatches and maps results to exit codes.

use std::fs;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::backup;
use crate::cli::{Cli, Command, StopArgs, Until};
use crate::log::{ActionLog, LOG_FILE};
use crate::manifest::{Manifest, Process};
use crate::output::Progress;
use crate::plan;
use crate::procs::Snapshot;
use crate::ready;
use crate::safety::Guard;
#[cfg(unix)]
use crate::start;
use crate::status;
use crate::stop::{self, StopOptions};
#[cfg(unix)]
use crate::upgrade;

/// Exit status when something did not go as asked (a critical process down, a survivor,
/// a failed readiness check or backup).
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a usage or manifest error.
pub const EXIT_ERROR: u8 = 2;

/// Runs one command line. Errors are printed on stderr.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `Ok(true)`: everything as asked; `Ok(false)`: something failed and was reported.
fn dispatch(cli: &Cli) -> Result<bool> {
    #[cfg(not(unix))]
    crate::unsupported::check(&cli.command)?;
    // These read a report or a service's admin API: no manifest needed (a NAME reads it).
    match &cli.command {
        Command::Timeline { report, svg } => {
            let style = crate::timeline::Style::detect();
            print!("{}", crate::timeline::draw(report, svg.as_deref(), style)?);
            return Ok(true);
        }
        Command::Watch { target, api_key } => {
            let endpoint = crate::timeline::watch::Endpoint::resolve(target, &cli.config)?;
            let style = crate::timeline::Style::detect();
            let watched = crate::timeline::watch::watch(
                &endpoint,
                api_key.as_deref(),
                style,
                &mut io::stdout().lock(),
            )?;
            return Ok(watched.result.as_deref() == Some("completed"));
        }
        _ => {}
    }
    let manifest = Manifest::load(&cli.config)?;
    let guard = Guard::current(cli.allow_other_users);
    match &cli.command {
        Command::Status {
            json,
            watch,
            detailed,
        } => status_cmd(&manifest, *json, *watch, *detailed),
        Command::Stop(args) => {
            let log = if args.dry_run {
                ActionLog::disabled()
            } else {
                ActionLog::open(&manifest.logs_dir)
            };
            stop_cmd(&manifest, args, &guard, &log)
        }
        #[cfg(unix)]
        Command::Start { only } => {
            let log = ActionLog::open(&manifest.logs_dir);
            start_cmd(&manifest, only, &log)
        }
        #[cfg(unix)]
        Command::Restart(args) => restart_cmd(&manifest, args, &guard),
        Command::Health { json, only } => health_cmd(&manifest, only, *json),
        Command::Backup { only } => {
            let log = ActionLog::open(&manifest.logs_dir);
            let order =
                plan::select(plan::stop_order(&manifest), only).map_err(anyhow::Error::msg)?;
            backup_cmd(&manifest, &order, &log, false)
        }
        #[cfg(unix)]
        Command::Upgrade {
            name,
            timeout,
            dry_run,
        } => {
            let log = if *dry_run {
                ActionLog::disabled()
            } else {
                ActionLog::open(&manifest.logs_dir)
            };
            upgrade_cmd(&manifest, name, *timeout, *dry_run, &guard, &log)
        }
        Command::Wait {
            names,
            until,
            timeout,
        } => wait_cmd(&manifest, names, *until, *timeout),
        Command::Logs { follow, lines } => {
            logs_cmd(&manifest.logs_dir.join(LOG_FILE), *follow, *lines)
        }
        Command::Timeline { .. } | Command::Watch { .. } => unreachable!("handled above"),
        #[cfg(not(unix))]
        Command::Start { .. } | Command::Restart(_) | Command::Upgrade { .. } => {
            unreachable!("refused by unsupported::check above")
        }
    }
}

fn status_cmd(manifest: &Manifest, json: bool, watch: Option<u64>, detailed: bool) -> Result<bool> {
    loop {
        let snap = Snapshot::capture();
        let mut report = status::collect(manifest, &snap);
        if detailed {
            report.details = Some(crate::detail::collect(manifest, &snap));
        }
        let text = if json {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        } else {
            let mut t = status::render_table(&report);
            if let Some(d) = &report.details {
                t.push_str(&crate::detail::render(d));
            }
            t
        };
        let mut out = io::stdout().lock();
        if watch.is_some() && out.is_terminal() {
            write!(out, "\x1b[2J\x1b[H")?;
        }
        out.write_all(text.as_bytes())?;
        out.flush()?;
        match watch {
            None => return Ok(report.all_critical_running),
            Some(secs) => {
                if !out.is_terminal() && !json {
                    writeln!(out, "---")?;
                }
                drop(out);
                thread::sleep(Duration::from_secs(secs.max(1)));
            }
        }
    }
}

/// Backs up the declared files of `processes`. `Ok(false)` if a copy failed.
fn backup_cmd(
    manifest: &Manifest,
    processes: &[&Process],
    log: &ActionLog,
    quiet_if_none: bool,
) -> Result<bool> {
    let dir = backup::new_dir(&manifest.backups_dir);
    let items = backup::plan(manifest, processes, &dir);
    if items.is_empty() {
        if !quiet_if_none {
            println!("backup: no files declared");
            log.record("backup", "-", "no files declared");
        }
        return Ok(true);
    }
    let report = backup::run(&items);
    for item in &report.copied {
        println!(
            "backup: {}: copied {} -> {}",
            item.process,
            item.source.display(),
            item.dest.display()
        );
        log.record(
            "backup",
            &item.process,
            &format!(
                "{} copied to {}",
                item.source.display(),
                item.dest.display()
            ),
        );
    }
    for item in &report.missing {
        println!(
            "backup: {}: warning: {} does not exist, nothing copied",
            item.process,
            item.source.display()
        );
        log.record(
            "backup",
            &item.process,
            &format!("{} missing, skipped", item.source.display()),
        );
    }
    for (item, err) in &report.failed {
        println!(
            "backup: {}: FAILED to copy {}: {err}",
            item.process,
            item.source.display()
        );
        log.record(
            "backup",
            &item.process,
            &format!("{} failed: {err}", item.source.display()),
        );
    }
    if !report.copied.is_empty() {
        println!("backup: saved in {}", dir.display());
    }
    Ok(report.failed.is_empty())
}

fn stop_cmd(manifest: &Manifest, args: &StopArgs, guard: &Guard, log: &ActionLog) -> Result<bool> {
    let order = plan::select(plan::stop_order(manifest), &args.only).map_err(anyhow::Error::msg)?;
    let opts = StopOptions {
        force: args.force,
        timeout: args.timeout,
    };
    let snap = Snapshot::capture();
    let guard = guard.clone().with_ancestors(&snap);
    let steps = stop::plan(&order, &snap, &guard, &opts);

    if args.dry_run {
        println!("dry run: nothing is signalled, copied or removed");
        if args.no_backup {
            println!("backup: skipped (--no-backup)");
        } else {
            let dir = backup::new_dir(&manifest.backups_dir);
            print!(
                "{}",
                backup::describe(&backup::plan(manifest, &order, &dir), &dir)
            );
        }
        if let Some(t) = opts.timeout {
            println!("overall timeout: {}", humantime::format_duration(t));
        }
        println!("stop, in order:");
        print!("{}", stop::describe(&steps, &opts));
        let ok = !steps.iter().any(|s| matches!(s, stop::Step::Skip { .. }));
        return Ok(ok);
    }

    log.record("stop", "-", &format!("begin: {} process(es)", steps.len()));
    match write_status_snapshot(manifest, &order, &snap) {
        Ok(path) => {
            println!("status before stop: {}", path.display());
            log.record("stop", "-", &format!("status snapshot {}", path.display()));
        }
        Err(e) => {
            // The snapshot documents the stop; failing to write it must not prevent it.
            println!("status before stop: warning: {e:#}");
            log.record("stop", "-", &format!("status snapshot failed: {e:#}"));
        }
    }
    if !args.no_backup && !backup_cmd(manifest, &order, log, true)? {
        println!("not stopping anything: the backup failed (use --no-backup to stop anyway)");
        log.record("stop", "-", "aborted: backup failed");
        return Ok(false);
    }
    let progress = Progress::new(steps.len());
    let summary = stop::execute(&steps, &opts, log, &progress);
    println!("{}", summary.line());
    log.record("stop", "-", &summary.line());
    Ok(summary.success())
}

/// Writes the status of the processes about to be stopped to
/// `<logs_dir>/system_status_YYYYMMDD_HHMMSS.json` (a suffix keeps two stops in the same
/// second apart).
fn write_status_snapshot(
    manifest: &Manifest,
    order: &[&Process],
    snap: &Snapshot,
) -> Result<std::path::PathBuf> {
    let mut report = status::collect(manifest, snap);
    report
        .processes
        .retain(|row| order.iter().any(|p| p.name == row.name));
    let text = serde_json::to_string_pretty(&report)?;
    fs::create_dir_all(&manifest.logs_dir)
        .with_context(|| format!("cannot create {}", manifest.logs_dir.display()))?;
    let stamp = chrono::Local::now().format("%Y%m%d_%H%M%S");
    for n in 0..100 {
        let name = if n == 0 {
            format!("system_status_{stamp}.json")
        } else {
            format!("system_status_{stamp}_{n}.json")
        };
        let path = manifest.logs_dir.join(name);
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(text.as_bytes())
                    .and_then(|()| f.write_all(b"\n"))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    bail!(
        "too many status snapshots in {} this second",
        manifest.logs_dir.display()
    )
}

#[cfg(unix)]
fn restart_cmd(manifest: &Manifest, args: &StopArgs, guard: &Guard) -> Result<bool> {
    if args.dry_run {
        let stopped = stop_cmd(manifest, args, guard, &ActionLog::disabled())?;
        let order =
            plan::select(plan::start_order(manifest), &args.only).map_err(anyhow::Error::msg)?;
        println!("then start, in order:");
        print!("{}", start::describe(&order));
        return Ok(stopped);
    }
    let log = ActionLog::open(&manifest.logs_dir);
    log.record("restart", "-", "begin");
    if !stop_cmd(manifest, args, guard, &log)? {
        println!("not starting anything: the stop did not complete");
        log.record("restart", "-", "aborted: the stop did not complete");
        return Ok(false);
    }
    start_cmd(manifest, &args.only, &log)
}

#[cfg(unix)]
fn start_cmd(manifest: &Manifest, only: &[String], log: &ActionLog) -> Result<bool> {
    let order = plan::select(plan::start_order(manifest), only).map_err(anyhow::Error::msg)?;
    log.record("start", "-", &format!("begin: {} process(es)", order.len()));
    let progress = Progress::new(order.len());
    let summary = start::start_all(manifest, &order, log, &progress);
    println!("{}", summary.line());
    log.record("start", "-", &summary.line());
    Ok(summary.success())
}

#[cfg(unix)]
fn upgrade_cmd(
    manifest: &Manifest,
    name: &str,
    timeout: Duration,
    dry_run: bool,
    guard: &Guard,
    log: &ActionLog,
) -> Result<bool> {
    let Some(process) = manifest.process(name) else {
        let known: Vec<&str> = manifest.processes.iter().map(|p| p.name.as_str()).collect();
        bail!(
            "`{name}` names no process of {}; the manifest declares: {}",
            manifest.path.display(),
            known.join(", ")
        );
    };
    let Some(pid_file) = process.pid_file.as_deref() else {
        bail!(
            "`upgrade` follows the hand-over through the PID file, and process `{name}` has no \
             `pid_file` in {}; add `pid_file = \"…\"` naming the file the service writes (its \
             `[upgrade] pid_file`)",
            manifest.path.display()
        );
    };
    let snap = Snapshot::capture();
    let guard = guard.clone().with_ancestors(&snap);
    let plan = match upgrade::plan(process, pid_file, &snap, &guard) {
        Ok(plan) => plan,
        Err(refused) => {
            println!("{name}: not upgraded: {refused}");
            log.record("upgrade", name, &format!("refused: {refused}"));
            return Ok(false);
        }
    };
    if dry_run {
        println!("dry run: nothing is signalled");
        print!("{}", upgrade::describe(&plan, timeout));
        return Ok(true);
    }
    log.record(
        "upgrade",
        name,
        &format!(
            "begin: PID {}, {}, timeout {}",
            plan.old.pid,
            process.upgrade_signal.as_str(),
            humantime::format_duration(timeout)
        ),
    );
    let progress = Progress::new(1);
    let outcome = upgrade::execute(&plan, timeout, log, &progress);
    progress.finish();
    let result = outcome.describe(process, timeout);
    println!("{name}: {result}");
    log.record("upgrade", name, &result);
    Ok(outcome.success())
}

#[derive(Serialize)]
struct HealthRow {
    name: String,
    check: String,
    ready: bool,
    detail: String,
}

fn health_cmd(manifest: &Manifest, only: &[String], json: bool) -> Result<bool> {
    let procs: Vec<&Process> = manifest.processes.iter().collect();
    let procs = plan::select(procs, only).map_err(anyhow::Error::msg)?;
    let snap = ready::snapshot_for(procs.iter().copied());
    let rows: Vec<HealthRow> = procs
        .iter()
        .map(|p| {
            let (ready, detail) = match ready::probe(p, &snap) {
                Ok(d) => (true, d),
                Err(d) => (false, d),
            };
            HealthRow {
                name: p.name.clone(),
                check: p.ready.to_string(),
                ready,
                detail,
            }
        })
        .collect();
    let ok = rows.iter().all(|r| r.ready);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        let nw = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(4);
        let cw = rows.iter().map(|r| r.check.len()).max().unwrap_or(0).max(5);
        println!("{:<nw$}  {:<cw$}  {:<9}  DETAIL", "NAME", "CHECK", "RESULT");
        for r in &rows {
            println!(
                "{:<nw$}  {:<cw$}  {:<9}  {}",
                r.name,
                r.check,
                if r.ready { "ready" } else { "NOT READY" },
                r.detail
            );
        }
    }
    Ok(ok)
}

/// Polls until every named process is stopped (or ready), or the timeout passes.
fn wait_cmd(
    manifest: &Manifest,
    names: &[String],
    until: Until,
    timeout: Duration,
) -> Result<bool> {
    let procs: Vec<&Process> = manifest.processes.iter().collect();
    let procs = plan::select(procs, names).map_err(anyhow::Error::msg)?;
    let deadline = std::time::Instant::now() + timeout;
    let word = match until {
        Until::Stopped => "stopped",
        Until::Ready => "ready",
    };
    loop {
        let snap = Snapshot::capture();
        let pending: Vec<(&str, String)> = procs
            .iter()
            .filter_map(|p| {
                let not_yet = match until {
                    Until::Stopped => match crate::locate::locate(p, &snap).found {
                        crate::locate::Found::NotRunning => None,
                        crate::locate::Found::Running { targets, .. } => Some(format!(
                            "still running (PID {})",
                            targets.first().map_or(0, |t| t.pid)
                        )),
                        crate::locate::Found::Ambiguous { pids } => {
                            Some(format!("{} matching processes still run", pids.len()))
                        }
                    },
                    Until::Ready => ready::probe(p, &snap).err(),
                };
                not_yet.map(|why| (p.name.as_str(), why))
            })
            .collect();
        if pending.is_empty() {
            for p in &procs {
                println!("{}: {word}", p.name);
            }
            return Ok(true);
        }
        if std::time::Instant::now() >= deadline {
            for (name, why) in &pending {
                println!(
                    "{name}: not {word} after {}: {why}",
                    humantime::format_duration(timeout)
                );
            }
            return Ok(false);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn logs_cmd(path: &Path, follow: bool, lines: usize) -> Result<bool> {
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !follow => {
            bail!(
                "no log yet: {} does not exist (it is written by stop, start, restart, upgrade and backup)",
                path.display()
            )
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Wait for the first action to create it.
            loop {
                thread::sleep(Duration::from_millis(200));
                if let Ok(f) = fs::File::open(path) {
                    break f;
                }
            }
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let all: Vec<&str> = text.lines().collect();
    let from = if lines == 0 {
        0
    } else {
        all.len().saturating_sub(lines)
    };
    let mut out = io::stdout().lock();
    for l in &all[from..] {
        writeln!(out, "{l}")?;
    }
    out.flush()?;
    if !follow {
        return Ok(true);
    }
    let mut pos = file.stream_position()?;
    let mut buf = Vec::new();
    loop {
        let len = fs::metadata(path).map(|m| m.len()).unwrap_or(pos);
        if len < pos {
            pos = 0; // truncated or rotated
        }
        if len > pos {
            file.seek(SeekFrom::Start(pos))?;
            buf.clear();
            file.read_to_end(&mut buf)?;
            pos += buf.len() as u64;
            out.write_all(&buf)?;
            out.flush()?;
        }
        thread::sleep(Duration::from_millis(200));
    }
}
