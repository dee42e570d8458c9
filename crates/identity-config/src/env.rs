//! The environment as a source of settings.
//!
//! The configuration reads the environment through a function
//! (`Fn(&str) -> Option<String>`), so that tests give it a map instead of
//! changing the process environment (`std::env::set_var` is `unsafe` in
//! edition 2024, and races with every other test). [`process_env`] is the
//! function of the real process: it reads the known variables once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{ConfigError, Setting, ValueSource};

/// Names the `secrets.json` file to read when none is given explicitly.
///
/// An extra of this SDK: the official SDKs take the path as an argument only.
/// Without it (or an explicit path) no file is read at all.
pub const SECRETS_PATH_VAR: &str = "FBN_SECRETS_PATH";

/// A snapshot of the process environment's configuration variables.
pub(crate) fn process_env() -> Result<HashMap<&'static str, String>, ConfigError> {
    let names = Setting::ALL
        .iter()
        .flat_map(|setting| setting.env_vars().iter().copied())
        .chain([SECRETS_PATH_VAR]);
    let mut values = HashMap::new();
    for name in names {
        if let Some(value) = std::env::var_os(name) {
            let value = value
                .into_string()
                .map_err(|_| ConfigError::NotUnicode { variable: name })?;
            values.insert(name, value);
        }
    }
    Ok(values)
}

/// The value of a setting in the environment, and which variable held it.
/// An empty (or blank) variable counts as not set.
pub(crate) fn lookup(
    env: &dyn Fn(&str) -> Option<String>,
    setting: Setting,
) -> Option<(String, ValueSource)> {
    setting.env_vars().iter().find_map(|&variable| {
        env(variable)
            .filter(|value| !value.trim().is_empty())
            .map(|value| (value, ValueSource::Environment { variable }))
    })
}

/// Which `secrets.json` to read: the explicit path, else the file
/// [`SECRETS_PATH_VAR`] names, else none.
///
/// Never a file the caller did not name: a `secrets.json` in the working
/// directory, which anyone who can write to a cloned repository may have
/// put there, is not read. The file named must exist (reading it fails
/// otherwise).
pub(crate) fn locate_secrets_file(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| {
        env(SECRETS_PATH_VAR)
            .filter(|value| !value.trim().is_empty())
            .map(PathBuf::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_older_identity_url_variable_is_read_after_the_new_one() {
        let both = |name: &str| match name {
            "FBN_IDENTITY_URL" => Some("https://new".to_owned()),
            "FBN_FINBOURNE_IDENTITY_API_URL" => Some("https://old".to_owned()),
            _ => None,
        };
        assert_eq!(
            lookup(&both, Setting::IdentityUrl).unwrap().0,
            "https://new"
        );
        let old = |name: &str| {
            (name == "FBN_FINBOURNE_IDENTITY_API_URL").then(|| "https://old".to_owned())
        };
        let (value, origin) = lookup(&old, Setting::IdentityUrl).unwrap();
        assert_eq!(value, "https://old");
        assert_eq!(
            origin,
            ValueSource::Environment {
                variable: "FBN_FINBOURNE_IDENTITY_API_URL"
            }
        );
        let blank = |_: &str| Some("  ".to_owned());
        assert!(lookup(&blank, Setting::Username).is_none());
    }

    #[test]
    fn the_secrets_file_is_the_one_named_and_no_other() {
        let named = |name: &str| (name == SECRETS_PATH_VAR).then(|| "/from/env.json".to_owned());
        let blank = |name: &str| (name == SECRETS_PATH_VAR).then(|| "  ".to_owned());
        let none = |_: &str| None;

        let explicit = Path::new("/explicit.json");
        assert_eq!(
            locate_secrets_file(Some(explicit), &named).unwrap(),
            explicit
        );
        assert_eq!(
            locate_secrets_file(None, &named).unwrap(),
            Path::new("/from/env.json")
        );
        // Nothing named: no file, whatever the working directory holds (the
        // test of `IdentityConfig::load` in a directory with a planted
        // `secrets.json` is in `tests/config/planted.rs`).
        assert_eq!(locate_secrets_file(None, &none), None);
        assert_eq!(locate_secrets_file(None, &blank), None);
    }
}
