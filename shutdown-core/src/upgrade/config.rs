//! The `[upgrade]` table and its `GRACEFUL_UPGRADE_*` variables.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, ConfigError, ConfigIssue, Env, Section, Setting, key, value};
use crate::reason::Signal;

/// How long a successor may take to say it is ready before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The `[upgrade]` table: what triggers an in-place upgrade, how long the successor may take,
/// the PID file, and the systemd fd-store mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpgradeConfig {
    /// The signal that starts an upgrade (default `SIGUSR2`, nginx's convention; set
    /// `ReloadSignal=` to the same in a `Type=notify-reload` unit).
    pub signal: Setting<Vec<Signal>>,
    /// How long the successor may take from its start to saying it is ready; past it, the
    /// successor is killed (with its process group) and this process keeps serving.
    pub timeout: Setting<Duration>,
    /// A PID file, written atomically once the service is ready and locked for its lifetime.
    pub pid_file: Setting<Option<PathBuf>>,
    /// The second mode: instead of starting a successor, hand the listeners to systemd's file
    /// descriptor store at shutdown (`FDSTORE=1`), so `systemctl restart` queues clients in the
    /// backlog rather than refusing them. For services that must never run twice at once.
    pub fd_store: Setting<bool>,
}

impl Default for UpgradeConfig {
    fn default() -> Self {
        UpgradeConfig {
            signal: Setting::default_value(vec![Signal::Usr2]),
            timeout: Setting::default_value(DEFAULT_TIMEOUT),
            pid_file: Setting::default_value(None),
            fd_store: Setting::default_value(false),
        }
    }
}

impl UpgradeConfig {
    /// The keys of the `[upgrade]` table.
    pub(crate) const KEYS: Section<UpgradeConfig> = Section {
        name: "upgrade",
        keys: &[
            key!(
                "signal",
                Some("GRACEFUL_UPGRADE_SIGNAL"),
                signal,
                value::signals,
                "the signal that starts an upgrade (`[]` for none: the admin API and gracefulctl still can)"
            ),
            key!(
                "timeout",
                Some("GRACEFUL_UPGRADE_TIMEOUT"),
                timeout,
                value::duration,
                "how long the successor may take to be ready before it is killed"
            ),
            key!(
                "pid_file",
                Some("GRACEFUL_UPGRADE_PID_FILE"),
                pid_file,
                value::some_path,
                "a PID file written once ready and locked while the process lives"
            ),
            key!(
                "fd_store",
                Some("GRACEFUL_UPGRADE_FD_STORE"),
                fd_store,
                value::boolean,
                "hand the listeners to systemd's fd store at shutdown instead of starting a successor"
            ),
        ],
        check: |c, config, _env, issues| c.check(config, issues),
    };

    /// The defaults < the `[upgrade]` table of `config`'s file < the environment.
    ///
    /// # Errors
    /// A value that does not parse, a zero timeout, or an upgrade signal that is also one of
    /// the signals that start a shutdown.
    pub fn load(config: &Config, env: &Env) -> Result<Self, ConfigError> {
        UpgradeConfig::KEYS.load(UpgradeConfig::default(), config, env)
    }

    /// The `[upgrade]` section of `config` as it was loaded with the rest of the
    /// configuration, from the same file and environment (read from its file table alone for
    /// a configuration that was never loaded).
    ///
    /// # Errors
    /// Only for a configuration that was never loaded: as [`load`](UpgradeConfig::load).
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        config.section(&UpgradeConfig::KEYS)
    }

    /// The rules between keys, and against the core's `signals`.
    fn check(&self, config: &Config, issues: &mut Vec<ConfigIssue>) {
        if self.timeout.value.is_zero() {
            issues.push(ConfigIssue {
                key: "upgrade.timeout".into(),
                source: self.timeout.source.clone(),
                message: "must be greater than zero (it bounds how long a successor may start)"
                    .into(),
            });
        }
        for s in &self.signal.value {
            if config.signals.value.contains(s) {
                issues.push(ConfigIssue {
                    key: "upgrade.signal".into(),
                    source: self.signal.source.clone(),
                    message: format!(
                        "{s} also starts a shutdown (`signals`); choose another upgrade signal \
                         (SIGUSR2 is the default) or remove it from `signals`"
                    ),
                });
            }
            if cfg!(unix)
                && matches!(
                    s,
                    Signal::CtrlBreak
                        | Signal::CtrlClose
                        | Signal::CtrlLogoff
                        | Signal::CtrlShutdown
                )
            {
                issues.push(ConfigIssue {
                    key: "upgrade.signal".into(),
                    source: self.signal.source.clone(),
                    message: format!("{s} is a Windows console event; use SIGUSR2 or SIGHUP"),
                });
            }
        }
    }
}

inventory::submit! {
    crate::config::sections::Registration(&UpgradeConfig::KEYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: &str, env: &[(&str, &str)]) -> Result<UpgradeConfig, ConfigError> {
        let config = Config::default().apply_toml(file, "/etc/app.toml")?;
        let env = Env::Map(
            env.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        UpgradeConfig::load(&config, &env)
    }

    #[test]
    fn defaults_file_and_environment() {
        let c = load("", &[]).expect("defaults");
        assert_eq!(c.signal.value, vec![Signal::Usr2]);
        assert_eq!(c.timeout.value, DEFAULT_TIMEOUT);
        assert_eq!(c.pid_file.value, None);
        assert!(!c.fd_store.value);
        let c = load(
            "[upgrade]\nsignal = [\"SIGUSR1\"]\ntimeout = \"5s\"\npid_file = \"/run/app.pid\"\n",
            &[
                ("GRACEFUL_UPGRADE_TIMEOUT", "7s"),
                ("GRACEFUL_UPGRADE_FD_STORE", "yes"),
            ],
        )
        .expect("valid");
        assert_eq!(
            c.timeout.value,
            Duration::from_secs(7),
            "the environment wins"
        );
        assert_eq!(c.pid_file.value, Some(PathBuf::from("/run/app.pid")));
        assert_eq!(c.signal.value, vec![Signal::Usr1]);
        assert!(c.fd_store.value);
    }

    #[test]
    fn bad_values_are_named_with_what_is_accepted() {
        let e = load("signals = [\"SIGTERM\", \"SIGUSR2\"]\n", &[]).expect_err("conflict");
        let text = e.to_string();
        assert!(
            text.contains("upgrade.signal") && text.contains("also starts a shutdown"),
            "{text}"
        );
        let e = load("[upgrade]\ntimeout = \"0s\"\n", &[]).expect_err("zero");
        assert!(e.to_string().contains("greater than zero"), "{e}");
        let e = load("[upgrade]\ntimout = \"5s\"\n", &[]).expect_err("typo");
        assert!(e.to_string().contains("did you mean `timeout`"), "{e}");
        let e = load("", &[("GRACEFUL_UPGRADE_SIGNAL", "SIGFOO")]).expect_err("bad signal");
        assert!(e.to_string().contains("GRACEFUL_UPGRADE_SIGNAL"), "{e}");
    }

    #[test]
    fn a_windows_console_event_is_not_an_upgrade_signal_on_unix() {
        for event in ["CTRL_BREAK", "CTRL_CLOSE", "CTRL_LOGOFF", "CTRL_SHUTDOWN"] {
            let e = load("", &[("GRACEFUL_UPGRADE_SIGNAL", event)]).expect_err(event);
            assert!(
                e.to_string().contains("is a Windows console event"),
                "{event}: {e}"
            );
        }
    }

    #[test]
    fn operations_doc_table_is_the_key_table() {
        crate::config::tests::assert_doc_table(
            include_str!("../../../docs/operations.md"),
            "docs/operations.md",
            "upgrade",
            &UpgradeConfig::KEYS.markdown(),
        );
    }
}
