//! What an emulator is started with: address, credentials, token lifetime,
//! state file, initial fault rules, rate limit and seeded users, and the
//! limits they are checked
//! against before it starts ([`EmulatorConfig::validate`]).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use crate::{EmulatorError, FaultRule, Limits};

/// Username the password grant accepts by default.
pub const DEFAULT_USERNAME: &str = "emulator-user";
/// Password the password grant accepts by default (a test credential, not a secret).
pub const DEFAULT_PASSWORD: &str = "emulator-password";
/// Client id the token endpoint accepts by default.
pub const DEFAULT_CLIENT_ID: &str = "emulator-client";
/// Client secret the token endpoint accepts by default (a test credential, not a secret).
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-client-secret";
/// Lifetime of issued access tokens by default.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Refresh tokens live this many times the access token lifetime.
pub const REFRESH_TOKEN_TTL_FACTOR: u32 = 24;
/// The longest access token lifetime the emulator accepts: 10 years (of 365
/// days).
///
/// Expiry times are points on the monotonic clock, and refresh tokens live
/// [`REFRESH_TOKEN_TTL_FACTOR`] times longer: 240 years from now at this
/// limit, which every platform's clock can hold (the narrowest counts
/// nanoseconds since boot in 64 bits, about 584 years), where a lifetime of
/// `u64::MAX` seconds would overflow it. A client adds `expires_in` to the
/// date too, and 10 years keeps that far from any date type's end. No test
/// or development session needs a token to outlive 10 years.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// The fewest characters of a static token when other machines may reach
/// the emulator (`allow_remote` on an address that is not loopback): a
/// shorter one could be guessed.
pub const MIN_REMOTE_TOKEN_CHARS: usize = 16;

/// The most users `--seed-users` (`seed_users`) adds: ten million (about
/// ten gigabytes of memory).
pub const MAX_SEED_USERS: u64 = 10_000_000;

/// How to start an emulator. `Default` listens on `127.0.0.1:0` (a free port),
/// accepts the `DEFAULT_*` credentials, issues tokens for an hour, keeps its
/// state in memory only, injects no faults, limits no rate and starts with
/// no users.
///
/// With `allow_remote` or a `state_file`, the hooks (`/_emulator/...`) need a
/// bearer token, as the API does; without either, they take a valid token
/// or none, for local tests.
///
/// ```
/// use std::time::Duration;
/// use identity_emulator::EmulatorConfig;
///
/// let config = EmulatorConfig {
///     access_tokens: vec!["my-static-token".into()],
///     token_ttl: Duration::from_secs(60),
///     ..EmulatorConfig::default()
/// };
/// assert!(config.bind.ip().is_loopback());
/// // Secrets stay out of Debug output.
/// assert!(!format!("{config:?}").contains("my-static-token"));
/// ```
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to listen on. Must be a loopback address unless `allow_remote`.
    pub bind: SocketAddr,
    /// Static bearer tokens every API call accepts (personal access tokens).
    pub access_tokens: Vec<String>,
    /// Username of the password grant.
    pub username: String,
    /// Password of the password grant.
    pub password: String,
    /// Client id of the token endpoint.
    pub client_id: String,
    /// Client secret of the token endpoint.
    pub client_secret: String,
    /// Lifetime of issued access tokens; refresh tokens live
    /// [`REFRESH_TOKEN_TTL_FACTOR`] times longer.
    pub token_ttl: Duration,
    /// File the users and the schema are kept in, across restarts (written
    /// with mode 0600 on Unix). When set, the hooks need a bearer token.
    pub state_file: Option<PathBuf>,
    /// Fault rules in force from the start.
    pub faults: Vec<FaultRule>,
    /// Allow listening on a non-loopback address. When set, requests naming
    /// any host are served (not only loopback names) and the hooks need a
    /// bearer token. On an address other machines can reach (not
    /// loopback), the emulator refuses to start with the public default
    /// password or client secret, or a static token shorter than
    /// [`MIN_REMOTE_TOKEN_CHARS`].
    pub allow_remote: bool,
    /// At most this many requests per second per caller (an API call's
    /// bearer token, the token endpoint's client), answered 429 with a
    /// fractional `Retry-After` beyond; `None`: no limit. Changed at run time
    /// with [`Emulator::set_rate_limit`](crate::Emulator::set_rate_limit) or
    /// `PUT /_emulator/rate-limit`.
    pub rate_limit: Option<NonZeroU32>,
    /// Start with this many seeded users (`user-000001@seed.example`, ...):
    /// realistic and deterministic, put straight into the directory, those
    /// already there (by login) skipped. At most [`MAX_SEED_USERS`].
    pub seed_users: u64,
    /// The bounds on memory and connections ([`Limits`]).
    pub limits: Limits,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            access_tokens: Vec::new(),
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_ttl: DEFAULT_TOKEN_TTL,
            state_file: None,
            faults: Vec::new(),
            allow_remote: false,
            rate_limit: None,
            seed_users: 0,
            limits: Limits::default(),
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("bind", &self.bind)
            .field(
                "access_tokens",
                &format_args!("[{} redacted]", self.access_tokens.len()),
            )
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("token_ttl", &self.token_ttl)
            .field("state_file", &self.state_file)
            .field("faults", &self.faults)
            .field("allow_remote", &self.allow_remote)
            .field("rate_limit", &self.rate_limit)
            .field("seed_users", &self.seed_users)
            .field("limits", &self.limits)
            .finish()
    }
}

impl EmulatorConfig {
    /// Whether the hooks need a bearer token: when other hosts may reach the
    /// emulator (`allow_remote`) or its state outlives it (`state_file`).
    pub fn hooks_need_token(&self) -> bool {
        self.allow_remote || self.state_file.is_some()
    }

    /// Whether other machines may reach the emulator: `allow_remote` on an
    /// address that is not loopback (`0.0.0.0`, `[::]`, an interface's).
    pub fn is_exposed(&self) -> bool {
        self.allow_remote && !self.bind.ip().is_loopback()
    }

    /// Exposed ([`is_exposed`](Self::is_exposed)), no credential may be
    /// one anyone can know: not the public default password or client
    /// secret, no static token shorter than [`MIN_REMOTE_TOKEN_CHARS`].
    fn check_exposed_credentials(&self) -> Result<(), EmulatorError> {
        if !self.is_exposed() {
            return Ok(());
        }
        let mut weak = Vec::new();
        let mut fixes = Vec::new();
        if self.password == DEFAULT_PASSWORD {
            weak.push("the public default password".to_owned());
            fixes.push("--password (IDENTITY_EMULATOR_PASSWORD)".to_owned());
        }
        if self.client_secret == DEFAULT_CLIENT_SECRET {
            weak.push("the public default client secret".to_owned());
            fixes.push("--client-secret (IDENTITY_EMULATOR_CLIENT_SECRET)".to_owned());
        }
        let short = self
            .access_tokens
            .iter()
            .filter(|token| token.chars().count() < MIN_REMOTE_TOKEN_CHARS)
            .count();
        if short > 0 {
            weak.push(format!(
                "{short} static token(s) shorter than {MIN_REMOTE_TOKEN_CHARS} characters"
            ));
            fixes.push(format!(
                "--access-token (IDENTITY_EMULATOR_ACCESS_TOKEN) to tokens of at least \
                 {MIN_REMOTE_TOKEN_CHARS} characters"
            ));
        }
        if weak.is_empty() {
            return Ok(());
        }
        Err(EmulatorError::GuessableCredentials {
            addr: self.bind,
            weak,
            fixes,
        })
    }

    /// Checks what [`Emulator::start`](crate::Emulator::start) checks before
    /// anything else: a loopback address unless `allow_remote` (and then
    /// no credential anyone can know, see
    /// [`allow_remote`](Self::allow_remote)), the [`Limits`], a token
    /// lifetime of at most [`MAX_TOKEN_TTL`], no empty static token, at
    /// most [`MAX_SEED_USERS`] seeded users, and fault rules that [`FaultRule::validate`] accepts. Errors name the
    /// flag of the binary and the field.
    ///
    /// ```
    /// use std::time::Duration;
    /// use identity_emulator::{EmulatorConfig, EmulatorError};
    ///
    /// let config = EmulatorConfig {
    ///     token_ttl: Duration::from_secs(u64::MAX),
    ///     ..EmulatorConfig::default()
    /// };
    /// let error = config.validate().unwrap_err();
    /// assert!(matches!(error, EmulatorError::InvalidSetting { .. }));
    /// assert!(error.to_string().contains("--token-ttl-secs"));
    /// assert!(EmulatorConfig::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), EmulatorError> {
        if !self.allow_remote && !self.bind.ip().is_loopback() {
            return Err(EmulatorError::NonLoopbackBind { addr: self.bind });
        }
        self.check_exposed_credentials()?;
        self.limits.validate()?;
        if self.token_ttl > MAX_TOKEN_TTL {
            return Err(EmulatorError::InvalidSetting {
                setting: "--token-ttl-secs (token_ttl)",
                message: format!(
                    "{} s is more than the maximum of {} s (10 years)",
                    self.token_ttl.as_secs(),
                    MAX_TOKEN_TTL.as_secs()
                ),
            });
        }
        if self
            .access_tokens
            .iter()
            .any(|token| token.trim().is_empty())
        {
            return Err(EmulatorError::InvalidSetting {
                setting: "--access-token (access_tokens)",
                message: "an empty token would let `Authorization: Bearer` with no token in"
                    .to_owned(),
            });
        }
        if self.seed_users > MAX_SEED_USERS {
            return Err(EmulatorError::InvalidSetting {
                setting: "--seed-users (seed_users)",
                message: format!(
                    "{} is more than the maximum of {MAX_SEED_USERS}",
                    self.seed_users
                ),
            });
        }
        for rule in &self.faults {
            rule.validate().map_err(EmulatorError::InvalidFault)?;
        }
        Ok(())
    }
}
