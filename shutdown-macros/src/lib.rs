//! Procedural macros of [`graceful`](https://docs.rs/graceful). Use them through the facade:
//! `#[graceful::main]`, `#[graceful::resource]` and `#[derive(graceful::Close)]`.
//!
//! Each macro is a pipeline, and each stage has its own file:
//!
//! | stage | `#[graceful::main]` | `#[graceful::resource]` | `#[derive(Close)]` | `#[graceful::state]` |
//! |---|---|---|---|---|
//! | parse: the arguments as written, with spans | `entry/parse.rs` | `resource/parse.rs` | `close/parse.rs` | `state/parse.rs` |
//! | validate: types of values, duplicates, rules across arguments | `entry/valid.rs` | `resource/valid.rs` | `close/valid.rs` | `state/valid.rs` |
//! | expand: the generated code | `entry/expand.rs` | `resource/expand.rs` | `close/expand.rs` | `state/expand.rs` |
//!
//! `#[graceful::main]` expands to public API (`::graceful::Entry`); the resource and
//! close macros reach the runtime through `::graceful::__private` (not public API: the
//! `inventory` registration and the autoref probes). Both go through the path given with
//! `crate = "…"` when there is one. Errors are reported at the offending tokens,
//! all at once, next to the user's unchanged item so that one mistake does not cascade.
//!
//! The doc examples here are `ignore`d because this crate cannot depend on `graceful`; the
//! same examples run as doctests in the facade's guide (`docs/macros.md`).

mod close;
mod common;
mod entry;
mod resource;
mod state;

use proc_macro::TokenStream;

/// Runs an `async fn main` under the `graceful` engine: builds the tokio runtime, installs
/// the signal handlers, builds every `#[graceful::resource]`, runs `main`, and on the first
/// trigger (a signal, `Shutdown::trigger`, `main` returning) walks the shutdown phases and
/// exits with the right status.
///
/// ```ignore
/// #[graceful::main(timeout = "30s", drain = "10s")]
/// async fn main(shutdown: graceful::Shutdown) -> Result<(), std::io::Error> {
///     shutdown.requested().await;
///     Ok(())
/// }
/// ```
///
/// # Arguments
///
/// | argument | example | meaning |
/// |---|---|---|
/// | `timeout` | `timeout = "30s"` | the overall deadline of the shutdown (default 30 s) |
/// | `drain` | `drain = "10s"` | how long in-flight work may take to finish (default 10 s) |
/// | `close_timeout` | `close_timeout = "5s"` | the deadline of each resource's close (default 5 s) |
/// | `readiness_delay` | `readiness_delay = "2s"` | how long listeners keep accepting after readiness turns false |
/// | `signals` | `signals = ["SIGTERM", "SIGINT"]` | which signals start a shutdown (default SIGTERM, SIGINT, SIGHUP) |
/// | `wait_for_connections` | `wait_for_connections = false` | whether the drain waits for in-flight work (default `true`) |
/// | `config` | `config = "graceful.toml"` | a TOML file read at start-up (overridden by `SHUTDOWN_*` variables) |
/// | `flavor` | `flavor = "current_thread"` | the tokio runtime: `"multi_thread"` (default) or `"current_thread"` |
/// | `worker_threads` | `worker_threads = 4` | worker threads of the `multi_thread` runtime |
/// | `crate` | `crate = "my_graceful"` | the path of `graceful` if the dependency is renamed |
///
/// Values are checked at compile time by the grammar the engine applies to the file and the
/// environment: a duration is a number of seconds (`"30"`, `30`, `1.5`) or a duration like
/// `"30s"`, `"1m30s"`, `"250ms"`. Signal names are `SIGTERM`, `SIGINT`, `SIGHUP`, `SIGQUIT`,
/// `SIGUSR1`, `SIGUSR2` (with or without `SIG`, any case, or a number such as `"15"`), and the
/// Windows console events `CTRL_C`, `CTRL_BREAK` (`SIGBREAK`), `CTRL_CLOSE`, `CTRL_LOGOFF`,
/// `CTRL_SHUTDOWN` (what each name listens for on each platform: docs/operations.md). When `timeout` is given, `readiness_delay`
/// plus the drain, and `close_timeout` — as given, or their defaults of 10 s and 5 s — must
/// fit in it. The values set here are the defaults of the configuration: the file and the
/// environment still override them at start-up.
///
/// # The function
///
/// `async fn` with no parameter or one parameter of type `graceful::Shutdown` (any path
/// ending in `Shutdown`), returning `()`, `Result<(), E>`, `std::process::ExitCode` or
/// `Result<ExitCode, E>` (`E: Debug`, as for Rust's own `main`). The future must be `Send`:
/// the engine runs `main` as a task. The function may have another name than `main`: the
/// generated function keeps the name, takes no arguments and returns `ExitCode`, so a
/// hand-written `fn main` can do some work first and then call it.
///
/// # Equivalent code without the macro
///
/// ```text
/// fn main() -> ::std::process::ExitCode {
///     async fn __graceful_main(shutdown: graceful::Shutdown) -> Result<(), std::io::Error> {
///         shutdown.requested().await;
///         Ok(())
///     }
///     let __graceful_args = ::graceful::MainArgs {
///         settings: ::std::vec![
///             ("timeout", ::graceful::ArgValue::Duration(::std::time::Duration::new(30, 0))),
///             ("drain_timeout", ::graceful::ArgValue::Duration(::std::time::Duration::new(10, 0))),
///         ],
///         ..::std::default::Default::default()
///     };
///     ::graceful::Entry::from_args(__graceful_args).run(__graceful_main)
/// }
/// ```
///
/// `graceful::Entry` is public API: without any macro at all, configure the engine with
/// `graceful::Graceful::builder()` and run it with `graceful::Entry::new(builder).run(main)`,
/// which gives the same guarantees (watchdog, bounded runtime shutdown, exit codes).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::main(args.into(), item.into()).into()
}

/// Registers a constructor as a resource: built at start-up in descending `priority`,
/// closed at shutdown in ascending `priority`.
///
/// ```ignore
/// struct Db;
/// impl Db {
///     async fn close(&self) -> Result<(), std::io::Error> { Ok(()) }
/// }
///
/// #[graceful::resource(priority = 100, close = "close")]
/// async fn db() -> Result<Db, std::io::Error> {
///     Ok(Db)
/// }
///
/// #[graceful::resource(priority = 90, name = "cache")]
/// fn cache(db: graceful::Res<Db>) -> Cache {
///     Cache::warm(&db)
/// }
/// ```
///
/// # Arguments
///
/// | argument | example | meaning |
/// |---|---|---|
/// | `priority` | `priority = 100` | an `i32`; higher builds first and closes last (default `0`) |
/// | `close` | `close = "shutdown"` | a method of the resource type that closes it |
/// | `name` | `name = "db"` | the name in reports and logs (default: the function's name) |
/// | `crate` | `crate = "my_graceful"` | the path of `graceful` if the dependency is renamed |
///
/// `close = "m"` names a method of `T` that is sync or `async`, takes `&self`, `&mut self` or
/// `self`, and returns `()` or `Result<_, E>` (`E` convertible to `BoxError`). The engine
/// takes the value out of its handle to call it, so a `Res<T>` still alive at close time
/// (held by a task that outlived `main`) makes the close fail with an error saying so.
/// Without `close`, the type's `graceful::Close` impl is used if it has one (for example
/// from `#[derive(Close)]`), else the value is dropped.
///
/// # The function
///
/// A free function, `async` or not, not generic, returning `T` or `Result<T, E>` with
/// `E: Into<BoxError>`. Whether it can fail is read from the type it returns, not from how
/// that type is spelled: `Result<T, E>` under any name (`io::Result<T>`, `anyhow::Result<T>`,
/// `sqlx::Result<T>`, `redis::RedisResult<T>`, an alias of your own) registers `T`, and an
/// `Err` stops the start-up; any other type is the resource itself. Each parameter is another resource, `Res<U>` (any path ending in
/// `Res`); the engine builds `U` first and refuses to start if `U`'s priority would close it
/// before this resource. The function stays as written and callable. A non-`async`
/// constructor runs on the runtime: keep it short.
///
/// Registration goes through `inventory`, which only sees crates that are linked: when the
/// resources live in another crate of yours that `main` does not otherwise use, write
/// `use my_resources as _;` in the binary.
///
/// # Equivalent code without the macro
///
/// ```text
/// async fn db() -> Result<Db, std::io::Error> { Ok(Db) }
///
/// const _: () = {
///     fn __make() -> ::graceful::ResourceSpec {
///         // `Resource<Db>`: the type is inferred from what `db()` returns, `Ok` of a `Result`
///         // (under any name) or the value itself.
///         let r = ::graceful::Resource::new("db", 100, |__res: ::graceful::Resources| async move {
///             let __out = db().await;
///             /* Ok(value) or the `Result` with its error boxed */
///         })
///         .at(file!(), line!());
///         let r = ::graceful::__private::close_method(
///             r.close_owned(|__v| async move { /* __v.close(), awaited if it is a future */ }),
///             "close", // the method's name, for reports
///         );
///         r.into_spec()
///     }
///     ::graceful::__private::inventory::submit! { ::graceful::__private::Registration::new(__make) }
/// };
/// ```
///
/// Without macros, give the same `graceful::Resource` to `Graceful::builder().resource(…)`.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    resource::resource(args.into(), item.into()).into()
}

/// Implements `graceful::Close` by closing the fields that implement `Close`, in
/// declaration order. Every field is closed even when one fails; the errors are collected
/// into one, each naming its field.
///
/// ```ignore
/// #[derive(graceful::Close)]
/// struct Store {
///     index: Index,                  // implements Close: closed first
///     wal: Wal,                      // implements Close: closed second
///     #[close(method = "flush")]     // `cache.flush()` (sync or async) is called third
///     cache: Cache,
///     #[close(skip)]                 // left alone
///     metrics: Metrics,
///     name: String,                  // does not implement Close: left alone
/// }
///
/// #[derive(graceful::Close)]
/// #[close(with = "shutdown")]        // one method of `self` closes the whole value
/// struct Client { /* … */ }
/// ```
///
/// # Attributes
///
/// | where | attribute | meaning |
/// |---|---|---|
/// | field | `#[close(skip)]` | do not close this field |
/// | field | `#[close(method = "flush")]` | close this field by calling `field.flush()` |
/// | type | `#[close(with = "shutdown")]` | close by calling `self.shutdown()` instead of closing fields |
/// | type | `#[close(crate = "my_graceful")]` | the path of `graceful` if the dependency is renamed |
///
/// Methods named by `method` and `with` take `&self`, may be sync or `async`, and return
/// `()` or `Result<_, E>` with `E` convertible to `BoxError`.
///
/// Named structs, tuple structs and enums are supported. An enum closes the fields of the
/// variant it currently holds. Unions are rejected (which field is active is unknown).
///
/// # Shared handles
///
/// When the engine closes a resource, its derived close leaves alone every field whose type
/// is itself registered as a resource: such a field is a clone of a shared connection (a
/// `redis::aio::MultiplexedConnection` or `sqlx::PgPool` taken from `Res<T>`), and closing it
/// would close the connection every other resource uses. The engine closes that resource
/// once, at its own priority, after every resource that depends on it. Called by hand
/// (`value.close().await`), the derived close closes every field. A field of a registered
/// type that is truly private is closed with `#[close(method = "close")]`.
///
/// Generic types: every type parameter must be `Send + Sync + 'static`; a type parameter
/// that appears in a field closed through its own `Close` impl gets a `T: Close` bound (as
/// `#[derive(Clone)]` asks `T: Clone`), so `Wrapper<T>` implements `Close` only for
/// `T: Close`. A field whose type mentions a parameter but implements `Close` only for some
/// arguments (`Arc<Mutex<T>>`, say) is left alone. Lifetime parameters are rejected.
///
/// # Equivalent code without the macro
///
/// ```text
/// impl graceful::Close for Store {
///     async fn close(&self) -> Result<(), graceful::BoxError> {
///         let mut errors = Vec::new();
///         if let Err(e) = self.index.close().await { errors.push(format!("field `index`: {e}")); }
///         if let Err(e) = self.wal.close().await { errors.push(format!("field `wal`: {e}")); }
///         if let Err(e) = self.cache.flush().await { errors.push(format!("field `cache`: {e}")); }
///         if errors.is_empty() { Ok(()) } else { Err(errors.join("; ").into()) }
///     }
/// }
/// ```
#[proc_macro_derive(Close, attributes(close))]
pub fn derive_close(item: TokenStream) -> TokenStream {
    close::derive(item.into()).into()
}

/// Declares a type as saved state: restored from the state directory before `main` runs, and
/// saved atomically during `SavingState`, after the drain and before any resource closes
/// (facade feature `state`).
///
/// ```ignore
/// use std::collections::VecDeque;
///
/// #[graceful::state(name = "jobs", version = 1)]
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Jobs {
///     pending: VecDeque<String>,
/// }
///
/// #[graceful::main]
/// async fn main(shutdown: graceful::Shutdown) -> Result<(), graceful::GetError> {
///     let jobs = graceful::get::<graceful::state::Saved<Jobs>>()?;
///     jobs.lock().await.pending.push_back("send the invoice".into());
///     shutdown.requested().await;
///     Ok(())
/// }
/// ```
///
/// # Arguments
///
/// | argument | example | meaning |
/// |---|---|---|
/// | `name` | `name = "jobs"` | the snapshot's name; its file is `<state_dir>/jobs.snapshot` (default: the type's name in snake case) |
/// | `version` | `version = 2` | the version of the serialized form (default `1`) |
/// | `priority` | `priority = 1000` | the priority of the `Saved<T>` resource (default `1000`: restored before, and saved before, the resources that use it) |
/// | `crate` | `crate = "my_graceful"` | the path of `graceful` if the dependency is renamed |
///
/// The type must implement `Default`, `serde::Serialize` and `serde::Deserialize`, and not
/// be generic. The program reaches it as the resource `graceful::state::Saved<T>`
/// (`graceful::get`, or a `Res<Saved<T>>` parameter of a resource constructor). `state_dir`
/// must be configured (`SHUTDOWN_STATE_DIR`, or `state_dir` in the configuration file), else
/// start-up fails naming the snapshot. To convert snapshots of an older version, implement
/// `graceful::state::Snapshot` by hand (with `migrate`) and register it with
/// `Graceful::saved_state::<T>(priority)` instead.
///
/// # Equivalent code without the macro
///
/// ```text
/// impl graceful::state::Snapshot for Jobs {
///     const NAME: &'static str = "jobs";
///     const VERSION: u32 = 1;
/// }
/// // and, on the engine: graceful.saved_state::<Jobs>(1000)
/// ```
#[proc_macro_attribute]
pub fn state(args: TokenStream, item: TokenStream) -> TokenStream {
    state::state(args.into(), item.into()).into()
}

/// What the facade exports as `#[graceful::state]` when its `state` feature is off: the item
/// and an error naming the feature to turn on. Not for direct use.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn state_without_feature(_args: TokenStream, item: TokenStream) -> TokenStream {
    state::without_feature(item.into()).into()
}

#[cfg(test)]
mod tests;
