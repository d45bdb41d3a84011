//! The macros' expansions at run time: `#[graceful::resource]` registrations (every shape of
//! close method, `Res<T>` injection, names, priorities, locations), `#[derive(Close)]`
//! (order, skip, method, with, tuple structs, enums, generics, errors), and
//! `#[graceful::main]` through the `derive_close` example run as a real process.
//!
//! Every `#[graceful::resource]` in this file is registered in the same test binary, so only
//! one test (`registered_resources_are_built_injected_and_closed`) builds an engine from the
//! registry; the other tests call `close()` directly or build engines by hand.

use std::sync::{Arc, Mutex};

use graceful::report::CloseOutcome;
use graceful::{Close, CloseKind, Graceful, Res};

// ---- resources registered with #[graceful::resource] -------------------------------------

/// What the registered resources' close handlers did, in order.
static CLOSED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn closed(what: impl Into<String>) {
    CLOSED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(what.into());
}

/// Plain `T` from a sync constructor; closed by a sync `&self` method returning `()`.
struct Base {
    id: u32,
}

impl Base {
    fn shutdown(&self) {
        closed(format!("base {} shutdown(&self)", self.id));
    }
}

const BASE_LINE: u32 = line!() + 2;
#[graceful::resource(priority = 100, close = "shutdown")]
fn base() -> Base {
    Base { id: 7 }
}

/// `io::Result<T>` from an async constructor taking `Res<Base>`; closed by an async `&self`
/// method returning `Result`.
struct Repo {
    base_id: u32,
}

impl Repo {
    async fn close(&self) -> Result<(), std::io::Error> {
        tokio::task::yield_now().await;
        closed(format!("repo(base {}) close(&self).await", self.base_id));
        Ok(())
    }
}

#[graceful::resource(priority = 90, close = "close", name = "repository")]
async fn repo(base: Res<Base>) -> std::io::Result<Repo> {
    tokio::task::yield_now().await;
    Ok(Repo { base_id: base.id })
}

/// `Result<T, String>` from a sync constructor with two dependencies; closed by a sync
/// method taking `self` by value.
struct Journal {
    entries: Vec<String>,
}

impl Journal {
    fn finish(self) -> Result<(), String> {
        closed(format!("journal finish(self) with {:?}", self.entries));
        Ok(())
    }
}

#[graceful::resource(priority = 80, close = "finish")]
fn journal(base: graceful::Res<Base>, repo: Res<Repo>) -> Result<Journal, String> {
    Ok(Journal {
        entries: vec![
            format!("base {}", base.id),
            format!("repo {}", repo.base_id),
        ],
    })
}

/// Closed by an async method taking `self` that fails.
struct Flaky;

impl Flaky {
    async fn stop(self) -> Result<(), std::io::Error> {
        closed("flaky stop(self).await");
        Err(std::io::Error::other("disk on fire"))
    }
}

#[graceful::resource(priority = 80, close = "stop")]
async fn flaky() -> Flaky {
    Flaky
}

/// Closed by a `&mut self` method returning `Result<u32, E>` (the value is ignored).
struct Counter {
    count: u32,
}

impl Counter {
    fn reset(&mut self) -> Result<u32, std::fmt::Error> {
        let was = self.count;
        self.count = 0;
        closed(format!("counter reset(&mut self) from {was}"));
        Ok(was)
    }
}

#[graceful::resource(priority = 75, close = "reset")]
fn counter() -> Counter {
    Counter { count: 3 }
}

/// No `close`: the derived `Close` impl is used.
#[derive(Close)]
struct Pool {
    conn: Conn,
    #[close(skip)]
    _spare: Conn,
}

struct Conn(&'static str);

impl Close for Conn {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        closed(format!("conn {} closed", self.0));
        Ok(())
    }
}

#[graceful::resource(priority = 70)]
async fn pool() -> Pool {
    Pool {
        conn: Conn("main"),
        _spare: Conn("spare"),
    }
}

/// No `close` and no `Close` impl: the value is dropped.
struct Scratch;

impl Drop for Scratch {
    fn drop(&mut self) {
        closed("scratch dropped");
    }
}

#[graceful::resource(priority = -5)]
fn scratch() -> Scratch {
    Scratch
}

fn record<'a>(
    report: &'a graceful::report::ShutdownReport,
    name: &str,
) -> &'a graceful::report::ResourceRecord {
    report
        .resource(name)
        .unwrap_or_else(|| panic!("resource `{name}` is missing from the report:\n{report}"))
}

#[tokio::test]
async fn registered_resources_are_built_injected_and_closed() {
    let graceful = Graceful::builder()
        .registered_resources()
        .signals([])
        .build()
        .expect("valid configuration");
    let outcome = graceful
        .run(|shutdown| async move {
            let resources = shutdown.resources();
            let repo = resources.get::<Repo>().expect("Repo is registered");
            assert_eq!(repo.base_id, 7, "Res<Base> was injected into repo()");
            let journal = resources.get::<Journal>().expect("Journal is registered");
            assert_eq!(journal.entries, ["base 7", "repo 7"]);
            assert_eq!(resources.len(), 7, "{resources:?}");
        })
        .await;
    let report = outcome.report;

    // Every registered resource is in the report, under its name, with its close kind.
    let method = |m: &str| CloseKind::Method(m.to_string());
    assert_eq!(record(&report, "base").close, method("shutdown"));
    assert_eq!(
        record(&report, "repository").close,
        method("close"),
        "`name = \"repository\"`"
    );
    assert!(
        report.resource("repo").is_none(),
        "the name argument replaces the function name"
    );
    assert_eq!(record(&report, "journal").close, method("finish"));
    assert_eq!(record(&report, "flaky").close, method("stop"));
    assert_eq!(record(&report, "counter").close, method("reset"));
    assert_eq!(
        record(&report, "pool").close,
        CloseKind::Trait,
        "derive(Close) is picked up"
    );
    assert_eq!(
        record(&report, "scratch").close,
        CloseKind::Drop,
        "no Close impl: dropped"
    );

    // Priorities, the type name and the location of the constructor.
    assert_eq!(record(&report, "base").priority, 100);
    assert_eq!(record(&report, "scratch").priority, -5);
    assert!(record(&report, "base").type_name.ends_with("Base"));
    let location = record(&report, "base").location.expect("location recorded");
    assert!(location.file.ends_with("macros.rs"), "{location}");
    assert_eq!(location.line, BASE_LINE, "the line of `fn base`");

    // Outcomes: the failing close is reported with its error; the others closed.
    match &record(&report, "flaky").outcome {
        CloseOutcome::Failed(e) => assert!(e.contains("disk on fire"), "{e}"),
        other => panic!("flaky: {other:?}"),
    }
    for name in [
        "base",
        "repository",
        "journal",
        "counter",
        "pool",
        "scratch",
    ] {
        assert_eq!(
            record(&report, name).outcome,
            CloseOutcome::Closed,
            "{name}:\n{report}"
        );
    }

    // Ascending priority; journal and flaky share a class, so compare them to the others.
    let log = CLOSED.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let at = |needle: &str| {
        log.iter()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("`{needle}` was never closed: {log:#?}"))
    };
    assert!(at("scratch dropped") < at("conn main closed"), "{log:#?}");
    assert!(
        at("conn main closed") < at("counter reset(&mut self) from 3"),
        "{log:#?}"
    );
    assert!(
        at("counter reset") < at("journal finish(self) with [\"base 7\", \"repo 7\"]"),
        "{log:#?}"
    );
    assert!(
        at("counter reset") < at("flaky stop(self).await"),
        "{log:#?}"
    );
    assert!(
        at("journal finish") < at("repo(base 7) close(&self).await"),
        "{log:#?}"
    );
    assert!(at("flaky stop") < at("repo(base 7)"), "{log:#?}");
    assert!(
        at("repo(base 7)") < at("base 7 shutdown(&self)"),
        "{log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("spare")),
        "#[close(skip)] field was closed: {log:#?}"
    );
}

// ---- #[derive(Close)] ---------------------------------------------------------------------

type Log = Arc<Mutex<Vec<String>>>;

/// A field that records its close, and fails when told to.
struct Part {
    name: &'static str,
    log: Log,
    fail: bool,
}

impl Part {
    fn new(name: &'static str, log: &Log) -> Self {
        Part {
            name,
            log: log.clone(),
            fail: false,
        }
    }

    fn failing(name: &'static str, log: &Log) -> Self {
        Part {
            fail: true,
            ..Part::new(name, log)
        }
    }

    fn note(&self, what: String) {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    fn flush(&self) {
        self.note(format!("{} flush", self.name));
    }

    async fn drain(&self) -> Result<(), std::io::Error> {
        tokio::task::yield_now().await;
        self.note(format!("{} drain", self.name));
        Ok(())
    }
}

impl Close for Part {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        self.note(format!("{} close", self.name));
        if self.fail {
            Err(format!("{} refused", self.name).into())
        } else {
            Ok(())
        }
    }
}

fn new_log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

#[derive(Close)]
struct Store {
    index: Part,
    label: String,
    #[close(skip)]
    skipped: Part,
    #[close(method = "flush")]
    cache: Part,
    #[close(method = "drain")]
    queue: Part,
    wal: Part,
}

#[tokio::test]
async fn derive_closes_fields_in_declaration_order_with_skip_and_method() {
    let log = new_log();
    let store = Store {
        index: Part::new("index", &log),
        label: "not closable".into(),
        skipped: Part::new("skipped", &log),
        cache: Part::new("cache", &log),
        queue: Part::new("queue", &log),
        wal: Part::new("wal", &log),
    };
    store.close().await.expect("every field closed");
    assert_eq!(
        entries(&log),
        ["index close", "cache flush", "queue drain", "wal close"]
    );
    assert_eq!(store.label, "not closable");
    let _ = &store.skipped;
}

#[derive(Close)]
struct Pair(Part, #[close(skip)] Part, Part);

#[tokio::test]
async fn derive_on_a_tuple_struct_closes_every_field_even_when_one_fails() {
    let log = new_log();
    let pair = Pair(
        Part::failing("first", &log),
        Part::new("skipped", &log),
        Part::failing("third", &log),
    );
    let err = pair
        .close()
        .await
        .expect_err("two fields failed")
        .to_string();
    assert_eq!(entries(&log), ["first close", "third close"]);
    assert!(err.contains("field `0`: first refused"), "{err}");
    assert!(err.contains("field `2`: third refused"), "{err}");
    assert_eq!(pair.1.name, "skipped");
}

#[derive(Close)]
#[close(with = "shutdown")]
struct Client {
    part: Part,
    calls: Mutex<u32>,
}

impl Client {
    async fn shutdown(&self) -> Result<(), std::io::Error> {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.part.note("client shutdown".into());
        Err(std::io::Error::other("peer gone"))
    }
}

#[derive(Close)]
#[close(with = "stop")]
struct Ticker {
    part: Part,
}

impl Ticker {
    fn stop(&self) {
        self.part.note("ticker stop".into());
    }
}

#[tokio::test]
async fn derive_with_delegates_to_one_method_sync_or_async() {
    let log = new_log();
    let client = Client {
        part: Part::new("client part", &log),
        calls: Mutex::new(0),
    };
    let err = client.close().await.expect_err("shutdown fails");
    assert_eq!(err.to_string(), "peer gone");
    assert_eq!(*client.calls.lock().unwrap_or_else(|p| p.into_inner()), 1);

    let ticker = Ticker {
        part: Part::new("ticker part", &log),
    };
    ticker.close().await.expect("stop returns ()");
    assert_eq!(
        entries(&log),
        ["client shutdown", "ticker stop"],
        "fields are not closed when `with` is given"
    );
}

#[derive(Close)]
enum Backend {
    Memory,
    Disk {
        file: Part,
        #[close(method = "flush")]
        buffer: Part,
        path: String,
    },
    Remote(Part, #[close(skip)] Part),
}

#[tokio::test]
async fn derive_on_an_enum_closes_the_active_variant() {
    let log = new_log();
    Backend::Memory.close().await.expect("nothing to close");
    let disk = Backend::Disk {
        file: Part::new("file", &log),
        buffer: Part::new("buffer", &log),
        path: "/tmp/x".into(),
    };
    disk.close().await.expect("closed");
    let remote = Backend::Remote(Part::failing("socket", &log), Part::new("spare", &log));
    let err = remote.close().await.expect_err("socket fails").to_string();
    assert!(err.contains("field `Remote.0`: socket refused"), "{err}");
    assert_eq!(
        entries(&log),
        ["file close", "buffer flush", "socket close"]
    );
}

#[derive(Close)]
struct Wrapper<T> {
    inner: T,
    #[close(method = "flush")]
    extra: Part,
}

#[tokio::test]
async fn derive_on_a_generic_type_closes_fields_of_the_parameter_type() {
    let log = new_log();
    let w = Wrapper {
        inner: Part::new("inner", &log),
        extra: Part::new("extra", &log),
    };
    w.close().await.expect("closed");
    let nested = Wrapper {
        inner: Wrapper {
            inner: Part::new("deep", &log),
            extra: Part::new("mid", &log),
        },
        extra: Part::new("outer", &log),
    };
    nested.close().await.expect("closed");
    assert_eq!(
        entries(&log),
        [
            "inner close",
            "extra flush",
            "deep close",
            "mid flush",
            "outer flush"
        ]
    );
}

#[tokio::test]
async fn a_derived_close_runs_as_a_resource_close_inside_an_engine() {
    let log = new_log();
    let store = Pair(
        Part::new("a", &log),
        Part::new("b", &log),
        Part::failing("c", &log),
    );
    let outcome = Graceful::builder()
        .signals([])
        .resource(graceful::Resource::from_value("pair", 1, store).close_trait())
        .build()
        .expect("valid configuration")
        .run(|_| async {})
        .await;
    match &record(&outcome.report, "pair").outcome {
        CloseOutcome::Failed(e) => assert!(e.contains("field `2`: c refused"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(entries(&log), ["a close", "c close"]);
}

/// Records its close; a type no resource is registered as.
struct Tag(Log);

impl Close for Tag {
    async fn close(&self) -> Result<(), graceful::BoxError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push("tag close".into());
        Ok(())
    }
}

/// Holds a handle of the type another resource is registered as (`Part`), as a struct holds a
/// clone of a shared connection, and a private one it closes itself.
#[derive(Close)]
struct Holder {
    shared: Part,
    own: Tag,
    #[close(method = "close")]
    private: Part,
}

#[tokio::test]
async fn a_derived_close_leaves_a_field_of_a_registered_type_to_its_resource() {
    let log = new_log();
    let holder = Holder {
        shared: Part::new("holder's handle", &log),
        own: Tag(log.clone()),
        private: Part::new("private", &log),
    };
    let outcome = Graceful::builder()
        .signals([])
        .resource(
            graceful::Resource::from_value("shared", 10, Part::new("shared", &log)).close_trait(),
        )
        .resource(graceful::Resource::from_value("holder", 5, holder).close_trait())
        .build()
        .expect("valid configuration")
        .run(|_| async {})
        .await;
    assert_eq!(
        record(&outcome.report, "holder").outcome,
        CloseOutcome::Closed
    );
    assert_eq!(
        entries(&log),
        ["tag close", "private close", "shared close"],
        "the shared handle is closed once, by its own resource; `method = \"close\"` closes a private one"
    );

    // Called by hand, outside an engine's close, the derived close closes every field.
    let log = new_log();
    let holder = Holder {
        shared: Part::new("handle", &log),
        own: Tag(log.clone()),
        private: Part::new("private", &log),
    };
    holder.close().await.expect("close");
    assert_eq!(
        entries(&log),
        ["handle close", "tag close", "private close"]
    );
}

// ---- #[graceful::main]'s copy of the engine's defaults ------------------------------------

/// `#[graceful::main(timeout = …)]` checks the timeout against the default drain and close
/// timeout without depending on the core, from a copy in `shutdown-macros/src/entry/valid.rs`
/// (`DEFAULT_DRAIN`, `DEFAULT_CLOSE_TIMEOUT`). When this fails, update that copy and the
/// messages pinned by `tests/ui/main-timeout-shorter-than-default-drain.stderr`.
#[test]
fn the_macro_copies_the_engines_default_drain_and_close_timeout() {
    use std::time::Duration;
    let defaults = graceful::Config::default();
    assert_eq!(defaults.drain_timeout.value, Duration::from_secs(10));
    assert_eq!(
        defaults.resource_close_timeout.value,
        Duration::from_secs(5)
    );
}

// ---- #[graceful::main] in a real process: the derive_close example ------------------------

/// The newest modification time among `paths` (files, or directories walked recursively).
fn newest(paths: &[std::path::PathBuf]) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut stack: Vec<std::path::PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(dir) = std::fs::read_dir(&p) {
                stack.extend(dir.flatten().map(|e| e.path()));
            }
        } else if let Ok(m) = meta.modified() {
            newest = newest.max(m);
        }
    }
    newest
}

/// The compiled `derive_close` example. `cargo test` builds examples next to the test binary
/// (`target/<profile>/examples/`); when it is missing or older than its sources (for example
/// with `cargo test --test macros`, which builds no example), it is built here into a
/// directory of its own, because the outer cargo still holds the lock of the main one.
fn derive_close_example() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>")
        .to_path_buf();
    let name = format!("derive_close{}", std::env::consts::EXE_SUFFIX);
    let beside = profile_dir.join("examples").join(&name);
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let sources = newest(&[
        root.join("examples/derive_close.rs"),
        root.join("shutdown-macros/src"),
        root.join("shutdown-core/src"),
        root.join("src"),
    ]);
    let fresh = |p: &std::path::Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= sources)
    };
    if fresh(&beside) {
        return beside;
    }
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let target_dir = profile_dir
        .parent()
        .expect("target directory")
        .join("derive-close-example");
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "--example",
            "derive_close",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    if release {
        cargo.arg("--release");
    }
    let output = cargo.output().expect("run cargo");
    assert!(
        output.status.success(),
        "cargo build --example derive_close failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target_dir
        .join(if release { "release" } else { "debug" })
        .join("examples")
        .join(name)
}

#[test]
fn graceful_main_runs_the_derive_close_example_and_exits_0_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut command = Command::new(derive_close_example());
    // The example's own configuration, whatever the environment of the test says.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SHUTDOWN_") {
            command.env_remove(key);
        }
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("utf-8 output");
        let ready = line.starts_with("ready");
        seen.push(line);
        if ready {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|l| l.starts_with("ready")),
        "the example never printed `ready`: {seen:#?}"
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("send SIGTERM");
    let rest: Vec<String> = lines.map(|l| l.expect("utf-8 output")).collect();
    let status = child.wait().expect("wait for the example");
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert_eq!(
        status.code(),
        Some(0),
        "exit status; stdout: {rest:#?}\nstderr: {stderr}"
    );
    let closes: Vec<&str> = rest
        .iter()
        .filter(|l| l.starts_with("close: "))
        .map(String::as_str)
        .collect();
    assert_eq!(
        closes,
        [
            "close: peers said goodbye to 4 peers",
            "close: uploader.queue drained 2 pending uploads",
            "close: store.index saved 1200 documents",
            "close: store.wal synced data/wal.log",
            "close: store.cache flushed 3 dirty entries",
        ],
        "priority 10, then 50, then 100 field by field; stderr: {stderr}"
    );
}
