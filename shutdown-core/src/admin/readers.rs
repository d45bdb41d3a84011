//! Readers of single `[admin]` values: addresses, prefixes, route paths, API key entries.
//! Each returns the message a person needs (what was wrong, what is accepted).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::auth::{ApiKey, Scopes};
use crate::config::{Source, toml};

/// The default address of the admin listener: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9090";

/// A TOML value as an error message shows it: scalars as written, others by their type.
pub(crate) fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.type_str().to_string(),
    }
}

pub(crate) fn parse_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.trim().parse::<SocketAddr>().map_err(|_| {
        format!("`{raw}` is not a socket address; expected an IP and a port like \"{DEFAULT_ADDR}\" or \"[::1]:9090\"")
    })
}

pub(crate) fn parse_prefix(raw: &str) -> Result<String, String> {
    let p = raw.trim().trim_end_matches('/');
    if p.is_empty() {
        return Ok(String::new());
    }
    if !p.starts_with('/') || p.contains(char::is_whitespace) || p.contains(['?', '#']) {
        return Err(format!(
            "`{raw}` is not a path prefix; expected empty or a path starting with `/`, like \"/api/v1/daemon\""
        ));
    }
    Ok(p.to_string())
}

pub(crate) fn parse_route_path(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if !p.starts_with('/')
        || p.len() < 2
        || p.ends_with('/')
        || p.contains(char::is_whitespace)
        || p.contains(['?', '#'])
    {
        return Err(format!(
            "`{raw}` is not a route path; expected a path like \"/stop\" or \"/health/live\""
        ));
    }
    Ok(p.to_string())
}

pub(crate) fn read_key_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| format!("cannot read the API key file {}: {e}", path.display()))
}

pub(crate) fn file_key(entry: &toml::Value, file: &Path, source: Source) -> Result<ApiKey, String> {
    let Some(t) = entry.as_table() else {
        return Err(format!(
            "expected a table with `key` or `key_file` and `scopes`, found {}",
            entry.type_str()
        ));
    };
    for k in t.keys() {
        if !["key", "key_file", "scopes"].contains(&k.as_str()) {
            return Err(format!(
                "unknown key `{k}`; accepted keys: key, key_file, scopes"
            ));
        }
    }
    let secret = match (t.get("key"), t.get("key_file")) {
        (Some(_), Some(_)) => return Err("set either `key` or `key_file`, not both".into()),
        (Some(toml::Value::String(s)), None) => s.clone(),
        (None, Some(toml::Value::String(p))) => {
            let p = PathBuf::from(p);
            let p = if p.is_relative() {
                file.parent().map_or(p.clone(), |d| d.join(&p))
            } else {
                p
            };
            read_key_file(&p)?
        }
        (None, None) => {
            return Err("missing `key` or `key_file` (a file holding the key is preferred)".into());
        }
        _ => return Err("`key` and `key_file` must be strings".into()),
    };
    let scopes = match t.get("scopes") {
        None => Scopes::ALL,
        Some(toml::Value::Array(items)) => {
            let names: Result<Vec<&str>, String> = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| format!("scope {} is not a string", shown(v)))
                })
                .collect();
            Scopes::parse(names?.into_iter()).map_err(|e| e.to_string())?
        }
        Some(other) => {
            return Err(format!(
                "`scopes` must be an array like [\"read\", \"system\"], found {}",
                other.type_str()
            ));
        }
    };
    ApiKey::new(secret, scopes, source).map_err(|e| e.to_string())
}
