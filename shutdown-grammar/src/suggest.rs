//! "Did you mean …?": one rule for every error message about a misspelt name.
//!
//! A candidate is suggested when its edit distance (Levenshtein, case-insensitive) to the word
//! is at most a third of the word's length, and never less than two: `tiemout` → `timeout`,
//! `adr` → `addr`, but `xyzzy` suggests nothing.

/// The closest candidate within [the threshold](self), if any.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), *c))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= limit)
        .map(|(_, c)| c)
}

/// `` (did you mean `x`?)`` when a candidate is close to `word`, else an empty string: the
/// suffix every "unknown …" message appends.
pub fn hint(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates).map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur.push(substitute.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("tiemout", &["timeout", "drain"]),
            Some("timeout")
        );
        assert_eq!(did_you_mean("adr", &["addr", "prefix"]), Some("addr"));
        assert_eq!(
            did_you_mean("SHUTDOWN_TIMEOT", &["SHUTDOWN_TIMEOUT", "SHUTDOWN_SIGNALS"]),
            Some("SHUTDOWN_TIMEOUT")
        );
        assert_eq!(did_you_mean("xyzzy", &["timeout", "drain"]), None);
        assert_eq!(
            hint("priorty", &["priority"]),
            " (did you mean `priority`?)"
        );
        assert_eq!(hint("xyzzy", &["priority"]), "");
    }
}
