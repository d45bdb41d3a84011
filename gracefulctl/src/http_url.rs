//! The `http://host[:port]/path` form of a readiness URL: checked when the manifest is read,
//! split when a probe connects.

/// Splits `http://host[:port]/path` into (`host:port`, `/path`).
///
/// # Errors
/// A message saying what is wrong with the URL.
pub fn parse_http_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}` is not an http:// URL (https is not supported)"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let addr = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else if authority.contains(':') && !authority.ends_with(']') {
        return Err(format!("`{url}` has an invalid port"));
    } else {
        format!("{authority}:80")
    };
    Ok((addr, path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls() {
        assert_eq!(
            parse_http_url("http://127.0.0.1:8080/health/ready"),
            Ok(("127.0.0.1:8080".into(), "/health/ready".into()))
        );
        assert_eq!(
            parse_http_url("http://localhost"),
            Ok(("localhost:80".into(), "/".into()))
        );
        assert!(parse_http_url("https://x").is_err());
        assert!(parse_http_url("http:///x").is_err());
    }
}
