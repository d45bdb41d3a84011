//! What the enabled features cannot do on this platform, said once at start-up.
//!
//! The Unix-only parts (systemd's notify socket and socket activation, in-place upgrades,
//! process-group signals) build on every platform so a cross-platform program needs no
//! `cfg`; where they cannot work, the configuration's warnings (printed at start-up on both
//! doors) name them and say what happens instead.

/// One line per enabled feature that is inactive, or partly active, here.
pub(crate) fn inactive() -> Vec<String> {
    #[allow(unused_mut)] // empty on Unix, and when no such feature is enabled
    let mut out: Vec<String> = Vec::new();
    #[cfg(all(not(unix), feature = "systemd"))]
    out.push(
        "feature `systemd` is inactive on this platform: no readiness or stop notifications, \
         no socket activation (`systemd::sockets()` is empty and every `_or_bind` call binds)"
            .into(),
    );
    #[cfg(all(not(unix), feature = "upgrade"))]
    out.push(
        "feature `upgrade` is inactive on this platform: in-place upgrades pass listening \
         sockets to a successor with Unix descriptor passing; the admin API answers 501"
            .into(),
    );
    #[cfg(all(windows, feature = "process"))]
    out.push(
        "feature `process` on Windows: a child is asked to stop with Ctrl-Break (it must share \
         this console) and ended with TerminateProcess at its deadline; its own children are not ended"
            .into(),
    );
    out
}
