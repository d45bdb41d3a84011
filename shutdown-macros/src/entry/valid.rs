//! `#[graceful::main]`: checks the arguments and the function, rules across arguments.

use std::time::Duration;

use proc_macro2::Span;
use shutdown_grammar::rules::{Broken, Deadlines};
use syn::{FnArg, ItemFn, LitStr, ReturnType, Type};

use super::parse::{Kind, RawArgs, RawValue, SETTINGS, SettingLit, argument};
use crate::common::duration;
use crate::common::{CratePath, Errors, check_duplicate, did_you_mean, one_of};

/// Which tokio runtime to build.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    MultiThread,
    CurrentThread,
}

/// A configuration argument's value, checked and typed: what the engine is handed.
pub(crate) enum Typed {
    Duration(Duration),
    Bool(bool),
    /// Canonical names (`SIGTERM`).
    Signals(Vec<&'static str>),
}

/// The checked arguments. Values that failed their checks are left out (and reported).
pub(crate) struct MainConfig {
    /// Every valid configuration argument as `(configuration key, value, span)`.
    pub(crate) settings: Vec<(&'static str, Typed, Span)>,
    pub(crate) timeout: Option<(Duration, Span)>,
    pub(crate) drain: Option<(Duration, Span)>,
    pub(crate) close_timeout: Option<(Duration, Span)>,
    pub(crate) readiness_delay: Option<(Duration, Span)>,
    pub(crate) config: Option<LitStr>,
    pub(crate) flavor: Option<(Flavor, Span)>,
    pub(crate) worker_threads: Option<(usize, Span)>,
    pub(crate) expect_resources: Option<(usize, Span)>,
    pub(crate) admin: Option<LitStr>,
    /// `init = path`: runs before anything else.
    pub(crate) init: Option<syn::Path>,
    pub(crate) krate: CratePath,
}

/// The canonical name of a signal written as a name, an alias or a number (`"15"`), by the
/// engine's own grammar, or an error spanned on the literal.
fn check_signal(lit: &LitStr, errors: &mut Errors) -> Option<&'static str> {
    match shutdown_grammar::parse_signal(&lit.value()) {
        Ok(name) => Some(name),
        Err(e) => {
            errors.at(lit.span(), e);
            None
        }
    }
}

/// The engine's defaults, for the checks that relate a `timeout` given here to a drain or
/// close deadline that is not: the same constants `Config::default` uses.
const DEFAULT_DRAIN: Duration = shutdown_grammar::defaults::DRAIN_TIMEOUT;
const DEFAULT_CLOSE_TIMEOUT: Duration = shutdown_grammar::defaults::RESOURCE_CLOSE_TIMEOUT;
const DEFAULT_DELAY: Duration = shutdown_grammar::defaults::READINESS_DELAY;

const FLAVORS: &[&str] = &["multi_thread", "current_thread"];

/// Checks the arguments: types of values, duplicates (at the second occurrence), and the
/// rules that relate arguments to each other. Always returns a configuration (what was
/// valid) so that the function can still be expanded next to the errors.
pub(crate) fn args(raw: RawArgs, errors: &mut Errors) -> MainConfig {
    let mut config = MainConfig {
        settings: Vec::new(),
        timeout: None,
        drain: None,
        close_timeout: None,
        readiness_delay: None,
        config: None,
        flavor: None,
        worker_threads: None,
        expect_resources: None,
        admin: None,
        init: None,
        krate: CratePath::default(),
    };
    let mut seen = Vec::new();
    for arg in raw.0 {
        let name = arg.value.name();
        if let RawValue::Unknown(e) = arg.value {
            errors.push(e);
            continue;
        }
        if check_duplicate(&mut seen, errors, name, arg.key) {
            continue;
        }
        match arg.value {
            RawValue::Setting(row, lit) => setting(&mut config, row, lit, arg.key, errors),
            RawValue::Config(lit) => {
                if lit.value().trim().is_empty() {
                    errors.at(lit.span(), "`config = \"\"` names no file; write a path such as `config = \"graceful.toml\"` or remove the argument");
                } else {
                    config.config = Some(lit);
                }
            }
            RawValue::Flavor(lit) => match lit.value().as_str() {
                "multi_thread" => config.flavor = Some((Flavor::MultiThread, lit.span())),
                "current_thread" => config.flavor = Some((Flavor::CurrentThread, lit.span())),
                other => errors.at(
                    lit.span(),
                    format!(
                        "`flavor = {other:?}` is not a tokio runtime flavor{}; use {}",
                        did_you_mean(other, FLAVORS),
                        one_of(&["\"multi_thread\"", "\"current_thread\""])
                    ),
                ),
            },
            RawValue::WorkerThreads(lit) => match lit.base10_parse::<usize>() {
                Ok(0) => errors.at(lit.span(), "`worker_threads = 0` starts no worker; use at least 1, or remove the argument to get one per CPU"),
                Ok(n) => config.worker_threads = Some((n, arg.key)),
                Err(_) => errors.at(lit.span(), "`worker_threads` takes a whole number such as `worker_threads = 4`"),
            },
            RawValue::ExpectResources(lit) => match lit.base10_parse::<usize>() {
                Ok(n) => config.expect_resources = Some((n, lit.span())),
                Err(_) => errors.at(
                    lit.span(),
                    "`expect_resources` takes a whole number such as `expect_resources = 3`",
                ),
            },
            RawValue::Admin(lit) => match lit.value().parse::<std::net::SocketAddr>() {
                Ok(_) => config.admin = Some(lit),
                Err(_) => errors.at(
                    lit.span(),
                    format!(
                        "`admin = {:?}` is not a socket address; write an IP and a port, such as \
                         `admin = \"127.0.0.1:9090\"`",
                        lit.value()
                    ),
                ),
            },
            RawValue::Init(path) => config.init = Some(path),
            RawValue::Crate(lit) => {
                if let Some(path) = errors.keep(CratePath::parse(&lit)) {
                    config.krate = path;
                }
            }
            RawValue::Unknown(_) => {}
        }
    }
    rules(&config, errors);
    config
}

/// Checks one configuration argument with the engine's grammar and records its typed value
/// under the configuration key; durations are also kept for the rules across arguments.
fn setting(config: &mut MainConfig, row: usize, lit: SettingLit, key: Span, errors: &mut Errors) {
    let (name, config_key, kind) = (argument(row), SETTINGS[row].name, SETTINGS[row].kind);
    let value = match (kind, lit) {
        (Kind::Duration, SettingLit::Duration(lit)) => {
            let Some(d) = errors.keep(lit.value(name)) else {
                return;
            };
            let span = lit.span();
            let slot = match name {
                "timeout" => {
                    if d.is_zero() {
                        errors.at(span, "`timeout = \"0s\"` leaves no time to shut down; give the whole shutdown a deadline such as `timeout = \"30s\"`");
                    }
                    Some(&mut config.timeout)
                }
                "drain" => Some(&mut config.drain),
                "close_timeout" => Some(&mut config.close_timeout),
                "readiness_delay" => Some(&mut config.readiness_delay),
                _ => None,
            };
            if let Some(slot) = slot {
                *slot = Some((d, span));
            }
            Typed::Duration(d)
        }
        (Kind::Signals, SettingLit::Signals(lits)) => {
            let mut names: Vec<&'static str> = Vec::new();
            for lit in &lits {
                if let Some(s) = check_signal(lit, errors) {
                    if names.contains(&s) {
                        errors.at(
                            lit.span(),
                            format!("`{s}` is listed twice in `signals`; remove one"),
                        );
                    } else {
                        names.push(s);
                    }
                }
            }
            Typed::Signals(names)
        }
        (Kind::Bool, SettingLit::Bool(b)) => Typed::Bool(b.value),
        _ => return,
    };
    config.settings.push((config_key, value, key));
}

/// The rules that relate arguments to each other.
fn rules(config: &MainConfig, errors: &mut Errors) {
    if let (Some((Flavor::CurrentThread, _)), Some((_, span))) =
        (config.flavor, config.worker_threads)
    {
        errors.at(
            span,
            "`worker_threads` has no effect with `flavor = \"current_thread\"`, which runs everything on the main thread; \
             remove `worker_threads` or use `flavor = \"multi_thread\"`",
        );
    }
    let Some((timeout, timeout_span)) = config.timeout else {
        return;
    };
    // The engine's own rules between deadlines (`shutdown_grammar::rules`), over the
    // arguments given and the defaults of the others.
    let delay = config.readiness_delay.map_or(DEFAULT_DELAY, |(d, _)| d);
    let deadlines = Deadlines {
        timeout,
        drain_timeout: config.drain.map_or(DEFAULT_DRAIN, |(d, _)| d),
        readiness_delay: delay,
        resource_close_timeout: config
            .close_timeout
            .map_or(DEFAULT_CLOSE_TIMEOUT, |(d, _)| d),
    };
    for broken in deadlines.check() {
        match broken {
            Broken::DrainPastTimeout { .. } => match config.drain {
                Some((drain, span)) => {
                    let what = if delay.is_zero() {
                        format!("`drain = \"{}\"`", duration::display(drain))
                    } else {
                        format!(
                            "`readiness_delay = \"{}\"` plus `drain = \"{}\"`",
                            duration::display(delay),
                            duration::display(drain)
                        )
                    };
                    errors.at(
                        span,
                        format!(
                            "{what} is longer than `timeout = \"{}\"`; the overall timeout bounds every phase, so raise `timeout` or shorten the drain",
                            duration::display(timeout)
                        ),
                    );
                }
                None => errors.at(
                    timeout_span,
                    format!(
                        "`timeout = \"{}\"` is shorter than the default drain of {}; set a shorter drain too, for example `drain = \"{}\"`",
                        duration::display(timeout),
                        duration::display(DEFAULT_DRAIN),
                        duration::display(half(timeout.saturating_sub(delay)))
                    ),
                ),
            },
            Broken::ClosePastTimeout => match config.close_timeout {
                Some((close, span)) => errors.at(
                    span,
                    format!(
                        "`close_timeout = \"{}\"` is longer than `timeout = \"{}\"`; one resource's close cannot outlast the whole shutdown",
                        duration::display(close),
                        duration::display(timeout)
                    ),
                ),
                None => errors.at(
                    timeout_span,
                    format!(
                        "`timeout = \"{}\"` is shorter than the default `close_timeout` of {}; set it too, for example `close_timeout = \"{}\"`",
                        duration::display(timeout),
                        duration::display(DEFAULT_CLOSE_TIMEOUT),
                        duration::display(half(timeout))
                    ),
                ),
            },
            // A zero `timeout` is reported on its value where it is read; a rule the table
            // gains later is still checked by the engine at start-up.
            _ => {}
        }
    }
}

/// Half of `d`, in whole seconds when that is at least one: a value to suggest.
fn half(d: Duration) -> Duration {
    let h = d / 2;
    if h.as_secs() >= 1 {
        Duration::from_secs(h.as_secs())
    } else {
        h
    }
}

/// Whether a type is `Shutdown` (any path ending in `Shutdown`, without type arguments).
fn is_shutdown(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Shutdown" && s.arguments.is_none()),
        Type::Paren(p) => is_shutdown(&p.elem),
        Type::Group(g) => is_shutdown(&g.elem),
        _ => false,
    }
}

/// Checks the function `#[graceful::main]` is on.
pub(crate) fn function(f: &ItemFn, errors: &mut Errors) {
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        errors.spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration; `#[graceful::main]` runs an `async fn main`",
        );
    }
    if let Some(c) = &sig.constness {
        errors.spanned(
            c,
            "`#[graceful::main]` cannot go on a `const fn`; remove `const`",
        );
    }
    if let syn::Safety::Unsafe(u) = &sig.safety {
        errors.spanned(u, "`#[graceful::main]` cannot go on an `unsafe fn`; remove `unsafe` and use `unsafe` blocks inside");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "`#[graceful::main]` cannot go on an `extern` function; remove the ABI",
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "`main` cannot be generic; remove the generic parameters",
        );
    } else if let Some(w) = &sig.generics.where_clause {
        errors.spanned(w, "`main` cannot have a `where` clause; remove it");
    }
    if let Some(v) = &sig.variadic {
        errors.spanned(v, "`main` cannot be variadic; remove `...`");
    }
    for (i, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => errors.spanned(
                r,
                "`#[graceful::main]` goes on a free function, not a method; remove `self` and move the function out of the `impl` block",
            ),
            FnArg::Typed(_) if i > 0 => errors.spanned(
                input,
                "`main` takes at most one parameter, the shutdown handle `shutdown: graceful::Shutdown`; remove this one",
            ),
            FnArg::Typed(t) => {
                if let Type::Reference(r) = &*t.ty
                    && is_shutdown(&r.elem)
                {
                    errors.spanned(
                        &t.ty,
                        "take the shutdown handle by value: `shutdown: graceful::Shutdown` (it is cheap to clone)",
                    );
                } else if !is_shutdown(&t.ty) {
                    errors.spanned(
                        &t.ty,
                        "the only parameter `main` may take is the shutdown handle: `shutdown: graceful::Shutdown`; \
                         read other values with `graceful::get::<T>()` or from the environment",
                    );
                }
            }
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && let Type::ImplTrait(_) | Type::Never(_) | Type::Infer(_) = &**ty
    {
        errors.spanned(
            ty,
            "`main` must return `()`, `Result<(), E>`, `std::process::ExitCode` or `Result<ExitCode, E>`; name the type",
        );
    }
}
