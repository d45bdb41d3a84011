//! `GET /config`: the effective configuration as JSON, every value with its source.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::config::AdminConfig;
use crate::config::{Config, Setting, fmt_d};

fn setting<T>(s: &Setting<T>, value: impl Into<Value>) -> Value {
    json!({ "value": value.into(), "source": s.source.to_string() })
}

/// `GET /config`.
pub(crate) fn config_json(core: &Config, admin: &AdminConfig) -> Value {
    let d = |s: &Setting<Duration>| setting(s, fmt_d(s.value));
    let signals: Vec<&str> = core.signals.value.iter().map(|s| s.name()).collect();
    let budgets: Map<String, Value> = core
        .class_budgets
        .iter()
        .map(|(p, s)| (p.to_string(), d(s)))
        .collect();
    let routes: Map<String, Value> = admin
        .routes
        .iter()
        .map(|(r, s)| (r.key().to_string(), setting(s, admin.path(*r))))
        .collect();
    let sections: Vec<&String> = core.sections.keys().collect();
    json!({
        "shutdown": {
            "timeout": d(&core.timeout),
            "drain_timeout": d(&core.drain_timeout),
            "resource_close_timeout": d(&core.resource_close_timeout),
            "readiness_delay": d(&core.readiness_delay),
            "force_after_timeout": setting(&core.force_after_timeout, core.force_after_timeout.value),
            "signals": setting(&core.signals, signals),
            "state_dir": setting(&core.state_dir, core.state_dir.value.as_ref().map(|p| p.display().to_string())),
            "grace_period": setting(&core.grace_period, core.grace_period.value.map(fmt_d)),
            "class_budgets": budgets,
        },
        "admin": {
            "addr": setting(&admin.addr, admin.addr.value.to_string()),
            "prefix": setting(&admin.prefix, admin.prefix.value.clone()),
            "routes": routes,
            "api_keys": admin.api_keys,
            "max_shutdown_timeout": d(&admin.max_shutdown_timeout),
            "body_limit": setting(&admin.body_limit, admin.body_limit.value),
            "max_connections": setting(&admin.max_connections, admin.max_connections.value),
            "max_connections_per_peer": setting(&admin.max_connections_per_peer, admin.per_peer_limit()),
            "linger": d(&admin.linger),
            "metrics_addr": setting(&admin.metrics_addr, admin.metrics_addr.value.map(|a| a.to_string())),
            "memory_threshold_mb": setting(&admin.memory_threshold_mb, admin.memory_threshold_mb.value),
            "cpu_threshold_percent": setting(&admin.cpu_threshold_percent, admin.cpu_threshold_percent.value),
            "header_timeout": d(&admin.header_timeout),
            "body_timeout": d(&admin.body_timeout),
        },
        "file_sections": sections,
        "warnings": core.warnings(),
    })
}
