//! `[REDACTED]` in `Debug` output, where a secret would be.

use std::fmt;

use secrecy::SecretString;

/// Shows as `[REDACTED]`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// `Some([REDACTED])` or `None`: whether a secret is set, never what it is.
pub(crate) fn optional(secret: &Option<SecretString>) -> Option<Redacted> {
    secret.as_ref().map(|_| Redacted)
}

/// A URL with any `user:password@` replaced, for `Debug` output.
pub(crate) fn url(value: &str) -> String {
    match value.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://[REDACTED]@{}", &rest[at + 1..]),
                None => value.to_owned(),
            }
        }
        None if value.contains('@') => "[REDACTED]".to_owned(),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            url("http://u:p@proxy:8080/x"),
            "http://[REDACTED]@proxy:8080/x"
        );
        assert_eq!(url("http://proxy:8080/a@b"), "http://proxy:8080/a@b");
        assert_eq!(url("u:p@proxy:8080"), "[REDACTED]");
        assert_eq!(url("https://host/path"), "https://host/path");
    }
}
