//! The SDK's messages in the command line's language: a setting is named by
//! its flag and its variable, never by a builder call.
//!
//! The library speaks Rust (`IdentityConfigBuilder::allow_insecure_http(true)`,
//! "from the builder"); a user of `fbn-identity` gave flags, variables and
//! a secrets file. A [`ConfigError`] is worded again here from its parts
//! (which setting, where its value came from), and a refused credential is
//! named with the flags and variables that give it. Every flag named here
//! is checked against the command line's definition by a test.

use finbourne_identity::layers::call::CredentialSent;
use finbourne_identity::layers::config::{ConfigError, Setting, ValueSource};

/// The flag that gives `setting`, when the command line has one
/// (passwords and client secrets have none: they come only from the
/// environment or the secrets file).
pub(crate) fn flag_of(setting: Setting) -> Option<&'static str> {
    Some(match setting {
        Setting::IdentityUrl => "--base-url",
        Setting::TokenUrl => "--token-url",
        Setting::Username => "--username",
        Setting::ClientId => "--client-id",
        Setting::AccessToken => "--access-token",
        Setting::ApplicationName => "--app-name",
        Setting::CorrelationId => "--correlation-id",
        Setting::TotalTimeoutMs => "--timeout-ms",
        Setting::RateLimitRetries => "--rate-limit-retries",
        Setting::AllowInsecureHttp => "--allow-insecure-http",
        _ => return None,
    })
}

/// Every way of giving `setting`: its flag, its variable, its key in the
/// secrets file (`--base-url, FBN_IDENTITY_URL or api.identityUrl in the
/// secrets file`).
pub(crate) fn ways_to_give(setting: Setting) -> String {
    let mut ways: Vec<String> = flag_of(setting).map(str::to_owned).into_iter().collect();
    ways.push(setting.env_var().to_owned());
    if let Some(key) = setting.secrets_key() {
        ways.push(format!("{key} in the secrets file"));
    }
    match ways.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        [] => String::new(),
    }
}

/// Where a value came from: a flag (the CLI gives the SDK's builder only
/// what its flags say), a variable, or a key of the secrets file.
fn origin(setting: Setting, origin: &ValueSource) -> String {
    match origin {
        ValueSource::Builder => flag_of(setting).map_or_else(
            || format!("the command line ({})", setting.env_var()),
            str::to_owned,
        ),
        other => other.to_string(),
    }
}

/// A configuration error, in flags and variables.
pub(crate) fn config_message(error: &ConfigError) -> String {
    match error {
        ConfigError::Missing { setting } => format!(
            "missing {}: give {}",
            setting.description(),
            ways_to_give(*setting)
        ),
        ConfigError::NoCredentials { missing } => no_credentials(missing),
        ConfigError::InvalidValue {
            setting,
            origin: from,
            value,
            reason,
        } => {
            let shown = value
                .as_ref()
                .map(|value| format!(" ({value:?})"))
                .unwrap_or_default();
            format!(
                "invalid {} from {}{shown}: {reason}",
                setting.description(),
                origin(*setting, from)
            )
        }
        ConfigError::InsecureUrl {
            setting,
            origin: from,
            url,
        } => format!(
            "{} from {} ({url}) uses plain http to a host that is not loopback: tokens would \
             travel in clear text; use https, or allow it with --allow-insecure-http (or \
             FBN_ALLOW_INSECURE_HTTP=true)",
            setting.description(),
            origin(*setting, from)
        ),
        // The others name a file, a variable or a key already.
        other => other.to_string(),
    }
}

/// No way of authenticating is complete: the three ways, in flags and
/// variables, and what the password grant lacks.
fn no_credentials(missing: &[Setting]) -> String {
    let grant: Vec<String> = Setting::PASSWORD_GRANT
        .iter()
        .map(|setting| {
            flag_of(*setting).map_or_else(|| setting.env_var().to_owned(), str::to_owned)
        })
        .collect();
    let mut text = format!(
        "no credentials: give a personal access token ({}), a token file ({}), or the password \
         grant's {} (each also a variable or a key of the secrets file)",
        ways_to_give(Setting::AccessToken),
        ways_to_give(Setting::AccessTokenFile),
        grant.join(", "),
    );
    if !missing.is_empty() && missing.len() < Setting::PASSWORD_GRANT.len() {
        let names: Vec<String> = missing
            .iter()
            .map(|setting| ways_to_give(*setting))
            .collect();
        text.push_str("; the password grant is missing ");
        text.push_str(&names.join("; "));
    }
    text
}

/// What to check for a refused credential, in flags and variables.
pub(crate) fn credential_hint(credential: &CredentialSent) -> String {
    match credential {
        CredentialSent::AccessToken => format!(
            "the token refused is the personal access token (from {})",
            ways_to_give(Setting::AccessToken)
        ),
        CredentialSent::TokenFile { path } => format!(
            "the token refused was read from {} (from {})",
            path.display(),
            ways_to_give(Setting::AccessTokenFile)
        ),
        CredentialSent::PasswordGrant {
            username,
            client_id,
        } => format!(
            "the token refused was granted to the user {username:?} through the client \
             {client_id:?} (from --username, --client-id, FBN_PASSWORD and FBN_CLIENT_SECRET)"
        ),
        other => format!("the token refused is {other}"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_flag_named_is_a_flag_of_the_command_line() {
        let command = crate::args::Cli::command();
        let longs: Vec<String> = command
            .get_arguments()
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .collect();
        for setting in Setting::ALL {
            if let Some(flag) = flag_of(setting) {
                assert!(longs.iter().any(|long| long == flag), "{flag}");
            }
        }
        // The secrets stay off the command line.
        assert_eq!(flag_of(Setting::Password), None);
        assert_eq!(flag_of(Setting::ClientSecret), None);
    }

    #[test]
    fn settings_are_named_by_flag_and_variable_never_by_builder_call() {
        let missing = config_message(&ConfigError::Missing {
            setting: Setting::IdentityUrl,
        });
        assert_eq!(
            missing,
            "missing identity URL: give --base-url, FBN_IDENTITY_URL or api.identityUrl in the \
             secrets file"
        );
        let insecure = config_message(&ConfigError::InsecureUrl {
            setting: Setting::IdentityUrl,
            origin: ValueSource::Builder,
            url: "http://identity:8080".into(),
        });
        assert!(
            insecure.contains("from --base-url (http://identity:8080)"),
            "{insecure}"
        );
        assert!(insecure.contains("--allow-insecure-http"), "{insecure}");
        let invalid = config_message(&ConfigError::InvalidValue {
            setting: Setting::TotalTimeoutMs,
            origin: ValueSource::Environment {
                variable: "FBN_TOTAL_TIMEOUT_MS",
            },
            value: Some("soon".into()),
            reason: "not a number".into(),
        });
        assert!(
            invalid.contains("environment variable FBN_TOTAL_TIMEOUT_MS"),
            "{invalid}"
        );
        let none = config_message(&ConfigError::NoCredentials {
            missing: vec![Setting::Password],
        });
        assert!(none.contains("--access-token"), "{none}");
        assert!(
            none.ends_with(
                "the password grant is missing FBN_PASSWORD or api.password in the secrets file"
            ),
            "{none}"
        );
        for message in [missing, insecure, invalid, none] {
            assert!(!message.contains("builder"), "{message}");
            assert!(!message.contains("::"), "{message}");
        }
    }
}
