//! Signal handling: the first signal starts the shutdown, a second one ends it at once.

use tokio::sync::mpsc;

use crate::exit;
use crate::reason::Signal;
use crate::shutdown::Shutdown;

/// Listens for `signals`. The first starts a graceful shutdown; a second (any of them) while
/// shutting down logs what was still pending and, when the engine owns the process, exits with
/// `128 + signal`; otherwise it forces the shutdown.
pub(crate) fn listen(shutdown: &Shutdown, signals: &[Signal], process_owner: bool) {
    if signals.is_empty() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Signal>();
    for &sig in signals {
        let tx = tx.clone();
        match stream(sig) {
            Ok(mut s) => {
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        if tx.send(sig).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(e) => {
                tracing::warn!(target: "graceful::signal", signal = %sig, "cannot listen for signal: {e}")
            }
        }
    }
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        // Only a second *signal* ends the process at once. The first one may arrive after
        // `main` returned or `trigger()` started the shutdown (Kubernetes sends SIGTERM to a
        // pod whose process is already stopping): it must not cut that shutdown short.
        let mut first = true;
        while let Some(sig) = rx.recv().await {
            if std::mem::take(&mut first) {
                shutdown.trigger(sig);
                continue;
            }
            let pending = shutdown.progress().summary();
            if process_owner {
                let code = exit::second_signal(sig.number());
                eprintln!(
                    "graceful: second signal {sig} during shutdown; exiting now with {code}. Still pending: {pending}"
                );
                tracing::error!(target: "graceful::signal", signal = %sig, code, %pending, "second signal: exiting at once");
                std::process::exit(code);
            }
            tracing::error!(target: "graceful::signal", signal = %sig, %pending, "second signal: forcing the shutdown");
            shutdown.force(sig);
        }
    });
}

#[cfg(unix)]
struct Stream(tokio::signal::unix::Signal);

#[cfg(unix)]
impl Stream {
    async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}

#[cfg(unix)]
fn stream(sig: Signal) -> std::io::Result<Stream> {
    use tokio::signal::unix::{SignalKind, signal};
    let kind = match sig {
        Signal::Term => SignalKind::terminate(),
        Signal::Int | Signal::CtrlBreak | Signal::CtrlClose => SignalKind::interrupt(),
        Signal::Hup => SignalKind::hangup(),
        Signal::Quit => SignalKind::quit(),
        Signal::Usr1 => SignalKind::user_defined1(),
        Signal::Usr2 => SignalKind::user_defined2(),
    };
    signal(kind).map(Stream)
}

#[cfg(windows)]
enum Stream {
    CtrlC(tokio::signal::windows::CtrlC),
    CtrlBreak(tokio::signal::windows::CtrlBreak),
    CtrlClose(tokio::signal::windows::CtrlClose),
}

#[cfg(windows)]
impl Stream {
    async fn recv(&mut self) -> Option<()> {
        match self {
            Stream::CtrlC(s) => s.recv().await,
            Stream::CtrlBreak(s) => s.recv().await,
            Stream::CtrlClose(s) => s.recv().await,
        }
    }
}

#[cfg(windows)]
fn stream(sig: Signal) -> std::io::Result<Stream> {
    use tokio::signal::windows;
    match sig {
        Signal::CtrlBreak => windows::ctrl_break().map(Stream::CtrlBreak),
        Signal::CtrlClose => windows::ctrl_close().map(Stream::CtrlClose),
        _ => windows::ctrl_c().map(Stream::CtrlC),
    }
}
