//! [`Setting`]: the settings by name, with each one's environment variables
//! and `secrets.json` key, generated from the table of settings (`table.rs`).
//!
//! The names are those of FINBOURNE's other SDKs (see the crate docs), so a
//! user moving from Python or C# keeps the same environment and file.

use std::fmt;

use crate::table::Kind;

/// The `file` column of the table: a key, or `none`.
macro_rules! secrets_key {
    (value none) => {
        None
    };
    (value $key:literal) => {
        Some($key)
    };
    (doc none) => {
        "Not in `secrets.json`."
    };
    (doc $key:literal) => {
        concat!("`secrets.json` key `", $key, "`.")
    };
}

/// The enum and its table of names, from the table of settings.
macro_rules! setting {
    ($( $section:ident { $(
        $(#[doc = $doc:literal])*
        $variant:ident: $method:ident($arg:ident: $arg_type:ty) as $kind:ident, $description:literal,
            env [$env:literal $(, $older:literal)*], file $file:tt;
    )* } )*) => {
        /// One configuration setting, as the official SDKs name it.
        ///
        /// Errors of [`ConfigError`](crate::ConfigError) name settings with
        /// this type, whose [`Display`](fmt::Display) gives both the
        /// environment variable and the `secrets.json` key, e.g.
        /// `FBN_PASSWORD (secrets.json api.password)`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Setting {
            $( $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Environment variable `", $env, "`", $(" (or the older `", $older, "`)",)* ".")]
                #[doc = secrets_key!(doc $file)]
                $variant,
            )* )*
        }

        /// How many settings there are.
        const COUNT: usize = [$( $( Setting::$variant, )* )*].len();

        impl Setting {
            /// Every setting, in the order of the table of settings.
            pub const ALL: [Setting; COUNT] = [$( $( Setting::$variant, )* )*];

            fn row(self) -> &'static Row {
                match self {
                    $( $( Setting::$variant => &Row {
                        description: $description,
                        setter: stringify!($method),
                        env: &[$env $(, $older)*],
                        file: secrets_key!(value $file),
                        kind: Kind::$kind,
                    }, )* )*
                }
            }
        }
    };
}

crate::for_each_setting!(setting);

impl Setting {
    /// The settings the password grant needs, all of them.
    pub const PASSWORD_GRANT: [Setting; 5] = [
        Setting::TokenUrl,
        Setting::Username,
        Setting::Password,
        Setting::ClientId,
        Setting::ClientSecret,
    ];

    /// What the setting is, in words (`"client secret"`).
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The builders' setter of it (`"client_secret"`), for errors about a
    /// value given in code.
    pub(crate) fn setter(self) -> &'static str {
        self.row().setter
    }

    /// The environment variable that sets it (`"FBN_CLIENT_SECRET"`).
    pub fn env_var(self) -> &'static str {
        self.row().env[0]
    }

    /// Every environment variable that sets it, the preferred one first
    /// (the identity URL also answers to the older
    /// `FBN_FINBOURNE_IDENTITY_API_URL`).
    pub fn env_vars(self) -> &'static [&'static str] {
        self.row().env
    }

    /// Its key in `secrets.json`, with its section (`"api.clientSecret"`,
    /// `"proxy.address"`), or `None` when the file cannot set it.
    pub fn secrets_key(self) -> Option<&'static str> {
        self.row().file
    }

    /// Whether the value is a secret, never to be shown.
    pub fn is_secret(self) -> bool {
        self.row().kind == Kind::Secret
    }

    /// Whether the value is a whole number (`secrets.json` may give it as a
    /// JSON number).
    pub(crate) fn is_number(self) -> bool {
        matches!(self.row().kind, Kind::Millis | Kind::Count)
    }
}

/// One row of the table, as [`Setting`]'s methods read it.
struct Row {
    description: &'static str,
    setter: &'static str,
    env: &'static [&'static str],
    file: Option<&'static str>,
    kind: Kind,
}

/// `FBN_CLIENT_SECRET (secrets.json api.clientSecret)`.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.env_var())?;
        if let Some(key) = self.secrets_key() {
            write!(f, " (secrets.json {key})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_a_distinct_variable_and_key() {
        let mut vars: Vec<_> = Setting::ALL.iter().flat_map(|s| s.env_vars()).collect();
        vars.sort();
        vars.dedup();
        assert_eq!(vars.len(), Setting::ALL.len() + 1);
        let mut keys: Vec<_> = Setting::ALL
            .iter()
            .filter_map(|s| s.secrets_key())
            .collect();
        keys.sort();
        keys.dedup();
        // The correlation id and the insecure-http switch are in no file.
        assert_eq!(keys.len(), Setting::ALL.len() - 2);
    }

    #[test]
    fn display_names_the_variable_and_the_key() {
        assert_eq!(
            Setting::ClientSecret.to_string(),
            "FBN_CLIENT_SECRET (secrets.json api.clientSecret)"
        );
        assert_eq!(Setting::CorrelationId.to_string(), "FBN_CORRELATION_ID");
    }
}
