//! `[REDACTED]` in `Debug` output, where a secret would be.

use std::fmt;

/// Shows as `[REDACTED]`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// The secrets a token request carries, in every form the request carried
/// them (as they are, form-encoded, in the HTTP Basic header), so that the
/// token endpoint's text can be shown and logged without them: a server
/// that echoes the request in its `error_description` must not make the
/// SDK print the password.
#[derive(Default)]
pub(crate) struct Secrets {
    /// Longest first, so that a secret holding another is removed whole.
    forms: Vec<String>,
}

impl Secrets {
    /// Adds `secret` (nothing for an empty one).
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let spaces_as_percent = encoded.replace('+', "%20");
        for form in [secret.to_owned(), encoded, spaces_as_percent] {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    }

    /// `text` with every form of every secret replaced by `[REDACTED]`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for form in &self.forms {
            if text.contains(form.as_str()) {
                text = text.replace(form.as_str(), "[REDACTED]");
            }
        }
        text
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("forms", &self.forms.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_every_secret_is_removed() {
        let mut secrets = Secrets::default();
        secrets.add("p@ss word&=1");
        secrets.add("");
        secrets.add("zz9");
        let echoed = "bad: grant_type=password&password=p%40ss+word%26%3D1&x=p%40ss%20word%26%3D1 \
                      raw p@ss word&=1, and zz9";
        let scrubbed = secrets.scrub(echoed);
        assert_eq!(
            scrubbed,
            "bad: grant_type=password&password=[REDACTED]&x=[REDACTED] raw [REDACTED], and [REDACTED]"
        );
        assert_eq!(secrets.scrub("nothing here"), "nothing here");
    }
}
