//! The table of settings: every setting of the SDK, written once.
//!
//! [`for_each_setting!`](crate::for_each_setting) hands the whole table to a
//! macro of the caller's, which generates code from it:
//!
//! - the [`Setting`](crate::Setting) enum and its names (`setting.rs`);
//! - the [`IdentityConfigBuilder`](crate::IdentityConfigBuilder)'s fields,
//!   setters and redacting `Debug` (`builder.rs`);
//! - the [`IdentityConfig`](crate::IdentityConfig)'s getters of plain values
//!   (`config.rs`);
//! - the facade's forwarding setters (`finbourne_identity::IdentityClientBuilder`).
//!
//! The README's Configuration table is checked against it by a test
//! (`tests/config/readme.rs`).
//!
//! # Reading the table
//!
//! Each row is one setting:
//!
//! ```text
//! /// Doc text: of the enum variant, the builder's setter and any getter.
//! Variant: builder_method(argument: Type) as Kind, "description",
//!     env ["FBN_PREFERRED", "FBN_OLDER"], file "section.key", default (EXPR);
//! ```
//!
//! - `Variant` names the setting in [`Setting`](crate::Setting) and in errors;
//! - `builder_method(argument: Type)` is the setter of the builders;
//! - `Kind` is what the value is ([`Kind`]): how it is held, shown in `Debug`
//!   and read from text; `Secret` is the one kind never shown;
//! - the description names the setting in error messages (`"client secret"`);
//! - `env` lists its environment variables, the preferred one first;
//! - `file` is its key in `secrets.json`, with its section, or `none`;
//! - `default` is the value in force when no source sets it (a constant of
//!   `defaults.rs`), or `none`: an option with a default has a getter that
//!   answers the value in force, one without answers an `Option`.
//!
//! The rows are in three sections, by where the value ends up:
//!
//! - `credentials`: the identity URL and the ways of authenticating,
//!   resolved by hand (`resolve.rs`) into the URL and
//!   [`Credentials`](crate::Credentials);
//! - `options`: plain values, each resolved alike and read back with the
//!   getter of the same name on [`IdentityConfig`](crate::IdentityConfig);
//! - `proxy`: resolved by hand into [`ProxySettings`](crate::ProxySettings).

/// Calls `$callback!` with the table of settings (see the `table` module's
/// docs in the source for its layout). Not part of the API: for the
/// generated code of this crate and of the facade.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_setting {
    ($callback:ident) => {
        $callback! {
            credentials {
                /// Base URL of the Identity service, e.g. `https://<domain>.lusid.com/identity`.
                IdentityUrl: identity_url(url: impl Into<String>) as Url, "identity URL",
                    env ["FBN_IDENTITY_URL", "FBN_FINBOURNE_IDENTITY_API_URL"], file "api.identityUrl", default none;
                /// OAuth2 token endpoint of the password grant (an Okta issuer URL gets its `/v1/token`).
                TokenUrl: token_url(url: impl Into<String>) as Url, "token URL",
                    env ["FBN_TOKEN_URL"], file "api.tokenUrl", default none;
                /// Username of the password grant.
                Username: username(username: impl Into<String>) as Text, "username",
                    env ["FBN_USERNAME"], file "api.username", default none;
                /// Password of the password grant.
                Password: password(password: impl Into<String>) as Secret, "password",
                    env ["FBN_PASSWORD"], file "api.password", default none;
                /// OAuth2 client id of the password grant.
                ClientId: client_id(client_id: impl Into<String>) as Text, "client id",
                    env ["FBN_CLIENT_ID"], file "api.clientId", default none;
                /// OAuth2 client secret of the password grant.
                ClientSecret: client_secret(client_secret: impl Into<String>) as Secret, "client secret",
                    env ["FBN_CLIENT_SECRET"], file "api.clientSecret", default none;
                /// Personal access token; wins over the other ways of authenticating.
                AccessToken: access_token(token: impl Into<String>) as Secret, "personal access token",
                    env ["FBN_ACCESS_TOKEN"], file "api.accessToken", default none;
                /// File holding the bearer token, re-read when it changes; wins over the password grant.
                AccessTokenFile: access_token_file(file: impl AsRef<std::path::Path>) as File, "access token file",
                    env ["FBN_ACCESS_TOKEN_FILE"], file "api.accessTokenFile", default none;
            }
            options {
                /// Application name, sent as `X-LUSID-Application`.
                ApplicationName: application_name(name: impl Into<String>) as Text, "application name",
                    env ["FBN_APP_NAME"], file "api.applicationName", default none;
                /// Extra CA certificate file (PEM), trusted beside the web's roots.
                ClientCertificate: client_certificate(file: impl AsRef<std::path::Path>) as File, "extra CA certificate file",
                    env ["FBN_CLIENT_CERTIFICATE"], file "api.clientCertificate", default none;
                /// Deadline of each call, retries and waits included.
                TotalTimeoutMs: total_timeout(timeout: std::time::Duration) as Millis, "total timeout (ms)",
                    env ["FBN_TOTAL_TIMEOUT_MS"], file "api.totalTimeoutMs", default ($crate::defaults::TOTAL_TIMEOUT);
                /// Deadline of each connection attempt.
                ConnectTimeoutMs: connect_timeout(timeout: std::time::Duration) as Millis, "connect timeout (ms)",
                    env ["FBN_CONNECT_TIMEOUT_MS"], file "api.connectTimeoutMs", default ($crate::defaults::CONNECT_TIMEOUT);
                /// Read timeout of one attempt: the longest wait for the answer's headers or the next piece of its body.
                ReadTimeoutMs: read_timeout(timeout: std::time::Duration) as Millis, "read timeout (ms)",
                    env ["FBN_READ_TIMEOUT_MS"], file "api.readTimeoutMs", default ($crate::defaults::READ_TIMEOUT);
                /// At most this many retries of a throttled answer (429); without it a throttled call is waited out within its deadline (the official SDKs stop at 2).
                RateLimitRetries: rate_limit_retries(retries: u32) as Count, "rate limit retries",
                    env ["FBN_RATE_LIMIT_RETRIES"], file "api.rateLimitRetries", default none;
                /// How many times a failure (5xx, a connection failure, an attempt timeout) is retried, for calls that may be replayed.
                TransientRetries: transient_retries(retries: u32) as Count, "transient retries",
                    env ["FBN_TRANSIENT_RETRIES"], file none, default ($crate::defaults::TRANSIENT_RETRIES);
                /// The largest answer body read, in bytes (a streamed list is bounded per user instead).
                MaxResponseBytes: max_response_bytes(bytes: u64) as Bytes, "largest answer (bytes)",
                    env ["FBN_MAX_RESPONSE_BYTES"], file none, default ($crate::defaults::MAX_RESPONSE_BYTES);
                /// Correlation id, sent as `CorrelationId` on every call.
                CorrelationId: correlation_id(id: impl Into<String>) as Text, "correlation id",
                    env ["FBN_CORRELATION_ID"], file none, default none;
                /// Allows plain `http://` identity and token URLs to hosts that are not loopback (an emulator reached by a container's or a compose service's name); off by default: tokens and passwords would travel in clear text. Never read from `secrets.json`, which may come with a cloned repository.
                AllowInsecureHttp: allow_insecure_http(allow: bool) as Switch, "allow insecure http",
                    env ["FBN_ALLOW_INSECURE_HTTP"], file none, default (false);
            }
            proxy {
                /// Address of an HTTP proxy, e.g. `http://proxy.acme.com:3128`.
                ProxyAddress: proxy_address(address: impl Into<String>) as Url, "proxy address",
                    env ["FBN_PROXY_ADDRESS"], file "proxy.address", default none;
                /// Username at the proxy.
                ProxyUsername: proxy_username(username: impl Into<String>) as Text, "proxy username",
                    env ["FBN_PROXY_USERNAME"], file "proxy.username", default none;
                /// Password at the proxy.
                ProxyPassword: proxy_password(password: impl Into<String>) as Secret, "proxy password",
                    env ["FBN_PROXY_PASSWORD"], file "proxy.password", default none;
            }
        }
    };
}

/// What the value of a setting is (the `Kind` column of the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A URL, held as a `String`; `Debug` hides any `user:password@` in it.
    Url,
    /// Text, held as a `String`.
    Text,
    /// A secret, held as a `SecretString`: never shown, in `Debug` or in an
    /// error.
    Secret,
    /// A file, held as a `PathBuf`.
    File,
    /// A timeout, held as a `Duration`; a whole number of milliseconds in
    /// the environment and `secrets.json`, within the bounds of `limits.rs`.
    Millis,
    /// A retry count, held as a `u32`; a whole number in the environment and
    /// `secrets.json`, at most `limits::MAX_RETRIES`.
    Count,
    /// A size in bytes, held as a `u64`; a whole number, at least 1.
    Bytes,
    /// A switch, held as a `bool` (off when not set); `true`/`false`, `1`/`0`,
    /// `yes`/`no` or `on`/`off`, in any case, in the environment.
    Switch,
}

/// Each [`Kind`] in Rust, for the macros that generate code from the table.
macro_rules! kind {
    // The type a builder or a configuration holds (in an `Option`).
    (type Url) => { String };
    (type Text) => { String };
    (type Secret) => { secrecy::SecretString };
    (type File) => { std::path::PathBuf };
    (type Millis) => { std::time::Duration };
    (type Count) => { u32 };
    (type Bytes) => { u64 };
    (type Switch) => { bool };

    // A setter's argument as a builder holds it: blank text is not set.
    (set Url, $arg:expr) => { $crate::table::text($arg) };
    (set Text, $arg:expr) => { $crate::table::text($arg) };
    (set Secret, $arg:expr) => { $crate::table::text($arg).map(secrecy::SecretString::from) };
    (set File, $arg:expr) => { $crate::table::file($arg) };
    (set Millis, $arg:expr) => { Some($arg) };
    (set Count, $arg:expr) => { Some($arg) };
    (set Bytes, $arg:expr) => { Some($arg) };
    (set Switch, $arg:expr) => { Some($arg) };

    // How `Debug` shows a held value (an `&Option<_>`).
    (show Url, $held:expr) => { &$held.as_deref().map($crate::redact::url) };
    (show Secret, $held:expr) => { &$crate::redact::optional($held) };
    (show $kind:ident, $held:expr) => { $held };

    // What a getter of a held value returns, and how (no getter of a
    // secret: secrets leave through `Credentials` and `ProxySettings`): the
    // value in force when the setting has a default, else an `Option`.
    (get Text, $held:expr, none) => { $held.as_deref() };
    (get File, $held:expr, none) => { $held.as_deref() };
    (get $kind:ident, $held:expr, none) => { $held };
    (get $kind:ident, $held:expr, $default:tt) => { $held.unwrap_or($default) };
    (returns Text, none) => { Option<&str> };
    (returns File, none) => { Option<&std::path::Path> };
    (returns $kind:ident, none) => { Option<kind!(type $kind)> };
    (returns $kind:ident, $default:tt) => { kind!(type $kind) };
}
pub(crate) use kind;

/// Text as a builder holds it: blank is not set, as in the environment.
pub(crate) fn text(value: impl Into<String>) -> Option<String> {
    Some(value.into()).filter(|value| !value.trim().is_empty())
}

/// A file as a builder holds it: an empty path is not set.
pub(crate) fn file(value: impl AsRef<std::path::Path>) -> Option<std::path::PathBuf> {
    Some(value.as_ref().to_path_buf()).filter(|path| !path.as_os_str().is_empty())
}
