//! API keys with scopes, compared in constant time.
//!
//! A key is accepted as `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys come from
//! `GRACEFUL_ADMIN_API_KEY` / `GRACEFUL_ADMIN_API_KEY_FILE` or `[[admin.api_keys]]`; there is
//! no default key. Keys are never logged, never shown by `GET /config`, and `Debug` prints
//! `<redacted>`.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};

use crate::config::Source;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read status, process information, configuration, metrics and events.
    Read,
    /// Start or force a shutdown.
    System,
}

impl Scope {
    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::System => 2,
        }
    }

    /// `read` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::System => "system",
        }
    }
}

/// Why a key or its scopes were refused: by [`Scopes::parse`] and [`ApiKey::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A scope name that is not `read` or `system`.
    #[error("`{0}` is not a scope; accepted scopes: read, system")]
    UnknownScope(String),
    /// An empty list of scopes.
    #[error("no scope given; accepted scopes: read, system")]
    NoScope,
    /// An empty key.
    #[error("the API key is empty")]
    Empty,
    /// A key with whitespace or control characters, which a header cannot carry reliably.
    #[error("the API key contains whitespace or control characters; use printable characters only")]
    Unprintable,
}

/// A set of [`Scope`]s.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// `read` and `system`.
    pub const ALL: Scopes = Scopes(3);

    /// Parses scope names (`read`, `system`).
    pub fn parse<'a>(names: impl Iterator<Item = &'a str>) -> Result<Scopes, KeyError> {
        let mut bits = 0;
        for name in names {
            bits |= match name.trim().to_ascii_lowercase().as_str() {
                "read" => Scope::Read.bit(),
                "system" => Scope::System.bit(),
                other => return Err(KeyError::UnknownScope(other.to_string())),
            };
        }
        if bits == 0 {
            return Err(KeyError::NoScope);
        }
        Ok(Scopes(bits))
    }

    /// `true` if `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scope names.
    pub fn names(self) -> Vec<&'static str> {
        [Scope::Read, Scope::System]
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect()
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// One API key and what it may do. The secret is never printed.
#[derive(Clone)]
pub struct ApiKey {
    secret: Vec<u8>,
    scopes: Scopes,
    source: Source,
}

impl ApiKey {
    /// A key. Empty keys and keys with whitespace or control characters are rejected
    /// (they cannot be sent in a header reliably).
    pub fn new(
        secret: impl Into<String>,
        scopes: Scopes,
        source: Source,
    ) -> Result<ApiKey, KeyError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(KeyError::Empty);
        }
        if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(KeyError::Unprintable);
        }
        if secret.len() < 16 {
            tracing::warn!(target: "graceful::admin", source = %source, "an admin API key is shorter than 16 characters; use a long random key");
        }
        Ok(ApiKey {
            secret: secret.into_bytes(),
            scopes,
            source,
        })
    }

    /// What the key may do.
    pub fn scopes(&self) -> Scopes {
        self.scopes
    }

    /// Where the key came from.
    pub fn source(&self) -> &Source {
        &self.source
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("source", &self.source)
            .finish()
    }
}

impl serde::Serialize for ApiKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ApiKey", 3)?;
        st.serialize_field("key", "<redacted>")?;
        st.serialize_field("scopes", &self.scopes)?;
        st.serialize_field("source", &self.source)?;
        st.end()
    }
}

/// Compares a presented key with a configured one in constant time.
///
/// The time taken depends only on the length of `configured` (the secret's length is not
/// what an attacker is after, and it is fixed): every byte is compared with
/// [`subtle::ConstantTimeEq`], whatever the presented key's length and content, and the length
/// check is folded into the same [`Choice`] instead of returning early.
pub(crate) fn keys_match(presented: &[u8], configured: &[u8]) -> bool {
    let len_eq = (presented.len() as u64).ct_eq(&(configured.len() as u64));
    let mut bytes_eq = Choice::from(1);
    for (i, c) in configured.iter().enumerate() {
        // `get` branches only on the presented key's length, which its sender already knows;
        // the secret's bytes are all compared either way.
        let p = presented.get(i).copied().unwrap_or(0);
        bytes_eq &= p.ct_eq(c);
    }
    bool::from(len_eq & bytes_eq)
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No key is configured: protected routes are disabled.
    NotConfigured,
    /// The key is missing or wrong (deliberately not saying which).
    Unauthorized,
    /// The key is valid but lacks the scope.
    MissingScope(Scope),
}

/// The key a request presents: `X-API-Key`, else `Authorization: Bearer`.
pub(crate) fn presented_key(headers: &http::HeaderMap) -> Option<&[u8]> {
    if let Some(v) = headers.get("x-api-key") {
        return Some(v.as_bytes());
    }
    let auth = headers.get(http::header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = auth.split_at(auth.iter().position(|b| *b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    Some(rest.trim_ascii())
}

/// Checks that the request's key exists and has `scope`. Every configured key is compared
/// (no early exit on a match), so the time does not reveal which key matched.
pub(crate) fn authorize(
    keys: &[ApiKey],
    headers: &http::HeaderMap,
    scope: Scope,
) -> Result<(), Denied> {
    if keys.is_empty() {
        return Err(Denied::NotConfigured);
    }
    let Some(presented) = presented_key(headers) else {
        return Err(Denied::Unauthorized);
    };
    let mut granted = 0u8;
    let mut matched = Choice::from(0);
    for key in keys {
        let m = Choice::from(u8::from(keys_match(presented, &key.secret)));
        matched |= m;
        // Branch-free accumulation of the matching key's scopes.
        granted |= key.scopes.0 & 0u8.wrapping_sub(m.unwrap_u8());
    }
    if !bool::from(matched) {
        return Err(Denied::Unauthorized);
    }
    if Scopes(granted).contains(scope) {
        Ok(())
    } else {
        Err(Denied::MissingScope(scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str, scopes: Scopes) -> ApiKey {
        ApiKey::new(s, scopes, Source::Default).expect("valid key")
    }

    #[test]
    fn comparison_is_exact() {
        assert!(keys_match(b"secret-key-123456", b"secret-key-123456"));
        assert!(
            !keys_match(b"secret-key-12345", b"secret-key-123456"),
            "prefix"
        );
        assert!(
            !keys_match(b"secret-key-1234567", b"secret-key-123456"),
            "longer"
        );
        assert!(
            !keys_match(b"secret-key-123457", b"secret-key-123456"),
            "last byte"
        );
        assert!(!keys_match(b"", b"secret-key-123456"), "empty");
        assert!(
            !keys_match(b"secret-key-123456\0", b"secret-key-123456"),
            "trailing NUL"
        );
        assert!(
            !keys_match(b"\0\0\0", b""),
            "configured empty never matches a NUL run"
        );
    }

    #[test]
    fn headers_and_scopes() {
        let keys = [
            key("reader-key-0123456789", Scopes(1)),
            key("system-key-0123456789", Scopes(2)),
        ];
        let mut h = http::HeaderMap::new();
        assert_eq!(authorize(&[], &h, Scope::Read), Err(Denied::NotConfigured));
        assert_eq!(authorize(&keys, &h, Scope::Read), Err(Denied::Unauthorized));
        h.insert(
            "x-api-key",
            http::HeaderValue::from_static("reader-key-0123456789"),
        );
        assert_eq!(authorize(&keys, &h, Scope::Read), Ok(()));
        assert_eq!(
            authorize(&keys, &h, Scope::System),
            Err(Denied::MissingScope(Scope::System))
        );
        let mut h = http::HeaderMap::new();
        h.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer system-key-0123456789"),
        );
        assert_eq!(authorize(&keys, &h, Scope::System), Ok(()));
        assert_eq!(
            authorize(&keys, &h, Scope::Read),
            Err(Denied::MissingScope(Scope::Read))
        );
        h.insert(
            "authorization",
            http::HeaderValue::from_static("Basic system-key-0123456789"),
        );
        assert_eq!(
            authorize(&keys, &h, Scope::System),
            Err(Denied::Unauthorized)
        );
        h.insert(
            "authorization",
            http::HeaderValue::from_static("Bearer wrong"),
        );
        assert_eq!(
            authorize(&keys, &h, Scope::System),
            Err(Denied::Unauthorized)
        );
    }

    #[test]
    fn secrets_are_never_printed() {
        let k = key("do-not-print-me-0123", Scopes::ALL);
        assert!(!format!("{k:?}").contains("do-not-print-me"));
        let json = serde_json::to_string(&k).expect("json");
        assert!(
            !json.contains("do-not-print-me") && json.contains("<redacted>"),
            "{json}"
        );
    }

    #[test]
    fn bad_keys_and_scopes_are_rejected() {
        assert!(ApiKey::new("", Scopes::ALL, Source::Default).is_err());
        assert!(ApiKey::new("has space", Scopes::ALL, Source::Default).is_err());
        assert!(Scopes::parse(["admin"].into_iter()).is_err());
        assert!(Scopes::parse(std::iter::empty()).is_err());
        assert_eq!(
            Scopes::parse(["read", "SYSTEM"].into_iter()),
            Ok(Scopes::ALL)
        );
    }
}
