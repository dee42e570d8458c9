//! The emulator's command line, for the binaries that run it
//! (`fbn-identity emulator [flags]`, and this crate's `identity-emulator`
//! alias): flatten [`EmulatorArgs`] into a clap parser and hand it to
//! [`run`](crate::run).
//!
//! Every flag can also be given by an `IDENTITY_EMULATOR_*` variable (the
//! flag's name in capitals, `-` as `_`: `IDENTITY_EMULATOR_BIND`,
//! `IDENTITY_EMULATOR_STATE_FILE`, ...); a flag on the command line wins.
//! `IDENTITY_EMULATOR_ACCESS_TOKEN` takes several tokens separated by
//! commas (as `--access-token` does), `IDENTITY_EMULATOR_FAULT` one rule or
//! a JSON array of rules (as `--fault` does), and the switches
//! (`IDENTITY_EMULATOR_READY_JSON`, `IDENTITY_EMULATOR_ALLOW_REMOTE`) are
//! off for `0`, `false`, `no`, `off` or nothing, on otherwise.
//!
//! ```
//! use clap::Parser;
//! use identity_emulator::EmulatorArgs;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     emulator: EmulatorArgs,
//! }
//!
//! let cli = Cli::try_parse_from([
//!     "emulator", "--bind", "127.0.0.1:0", "--access-token", "t1", "--access-token", "t2,t3",
//!     "--token-ttl-secs", "60", "--rate-limit", "50", "--seed-users", "1000",
//!     "--fault", r#"{"operation":"GetUser","fault":{"kind":"status","status":503}}"#,
//! ])?;
//! let config = cli.emulator.into_config();
//! assert_eq!(config.access_tokens, ["t1", "t2", "t3"]);
//! assert_eq!(config.token_ttl.as_secs(), 60);
//! assert_eq!(config.rate_limit.map(|n| n.get()), Some(50));
//! assert_eq!(config.seed_users, 1000);
//! assert_eq!(config.faults[0].operation.as_deref(), Some("GetUser"));
//! # Ok::<(), clap::Error>(())
//! ```
//!
//! # Started by a test suite
//!
//! With `--ready-json`, once the emulator listens it prints exactly one
//! line on stdout, a JSON object, and nothing else there (the banner goes to
//! stderr):
//!
//! ```text
//! {"base_url":"http://127.0.0.1:41234/identity","token_url":"http://127.0.0.1:41234/oauth2/token",
//!  "root_url":"http://127.0.0.1:41234","hooks_url":"http://127.0.0.1:41234/_emulator",
//!  "health_url":"http://127.0.0.1:41234/_emulator/health","listening_on":"127.0.0.1:41234",
//!  "other_addresses":[],"access_tokens":null,"username":"emulator-user",
//!  "password":"emulator-password","client_id":"emulator-client",
//!  "client_secret":"emulator-client-secret","state_file":null,"version":"0.1.0","pid":4242}
//! ```
//!
//! (on one line; here with `--access-token dev`, which it does not print
//! back: `null` is a credential the caller gave, the caller has it). SIGTERM or SIGINT (Ctrl-C) stops it gracefully: it stops
//! accepting connections, lets the requests in flight finish (for at most
//! 5 seconds), folds the state file's journal into its snapshot, and exits
//! with status 0.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::FalseyValueParser;

use crate::config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, MAX_SEED_USERS,
    MAX_TOKEN_TTL,
};
use crate::limits::MIN_HEAD_BYTES;
use crate::{EmulatorConfig, FaultRule, Limits};

/// The emulator's flags, each also read from its `IDENTITY_EMULATOR_*`
/// variable.
#[derive(Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (a loopback address unless --allow-remote); port
    /// 0 picks a free one (see --ready-json).
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_BIND",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,
    /// Allow listening on a non-loopback address (the emulator has no real
    /// security): requests naming any host are then served, and the hooks
    /// need a bearer token.
    #[arg(long, env = "IDENTITY_EMULATOR_ALLOW_REMOTE", value_parser = FalseyValueParser::new())]
    pub allow_remote: bool,
    /// A static bearer token every API call accepts (repeatable; several
    /// separated by commas).
    #[arg(
        long = "access-token",
        env = "IDENTITY_EMULATOR_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_delimiter = ','
    )]
    pub access_tokens: Vec<String>,
    /// Username of the password grant.
    #[arg(long, env = "IDENTITY_EMULATOR_USERNAME", default_value = DEFAULT_USERNAME)]
    pub username: String,
    /// Password of the password grant.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_PASSWORD",
        hide_env_values = true,
        default_value = DEFAULT_PASSWORD
    )]
    pub password: String,
    /// Client id of the token endpoint.
    #[arg(long, env = "IDENTITY_EMULATOR_CLIENT_ID", default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Client secret of the token endpoint.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_CLIENT_SECRET",
        hide_env_values = true,
        default_value = DEFAULT_CLIENT_SECRET
    )]
    pub client_secret: String,
    /// Lifetime of issued access tokens, in seconds (at most 315360000, 10 years).
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_TOKEN_TTL_SECS",
        value_name = "N",
        default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(..=MAX_TOKEN_TTL.as_secs())
    )]
    pub token_ttl_secs: u64,
    /// Keep users and schema in this file (a snapshot, mode 0600) and
    /// PATH.journal (the changes since, one JSON line each), across
    /// restarts; the hooks then need a bearer token.
    #[arg(long, env = "IDENTITY_EMULATOR_STATE_FILE", value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// A fault rule as JSON, or a JSON array of rules (repeatable), e.g.
    /// '{"operation":"CreateUser","fault":{"kind":"status","status":429,"retryAfter":"1"},"when":{"kind":"next","n":2}}'.
    #[arg(
        long = "fault",
        env = "IDENTITY_EMULATOR_FAULT",
        value_name = "JSON",
        value_parser = parse_fault_rules
    )]
    pub faults: Vec<FaultRules>,
    /// At most N requests per second per bearer token (the token endpoint:
    /// per client), beyond which calls are answered 429 with Retry-After;
    /// changed at run time with PUT /_emulator/rate-limit.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_RATE_LIMIT",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub rate_limit: Option<u32>,
    /// Start with N seeded users (user-000001@seed.example, ...): realistic,
    /// deterministic, those already in the state file skipped (at most
    /// 10000000).
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_SEED_USERS",
        value_name = "N",
        default_value_t = 0,
        value_parser = clap::value_parser!(u64).range(..=MAX_SEED_USERS)
    )]
    pub seed_users: u64,
    /// Once listening, print one JSON line on stdout (URLs and credentials)
    /// and nothing else there; the banner goes to stderr.
    #[arg(long, env = "IDENTITY_EMULATOR_READY_JSON", value_parser = FalseyValueParser::new())]
    pub ready_json: bool,
    /// The bounds on memory and connections.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The emulator's limits ([`Limits`]), each also read from its
/// `IDENTITY_EMULATOR_*` variable.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Limits (what no caller can make it hold)")]
pub struct LimitArgs {
    /// The largest request head (request line and headers), in bytes: a
    /// larger one is answered 431 (at least 8192).
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_MAX_HEAD_BYTES",
        value_name = "N",
        default_value_t = Limits::default().max_head_bytes as u64,
        value_parser = clap::value_parser!(u64).range(MIN_HEAD_BYTES as u64..=u64::from(u32::MAX))
    )]
    pub max_head_bytes: u64,
    /// Seconds a request's head may take to arrive, from its first byte (a
    /// new connection's first request: from the connection); and its body,
    /// whole (408).
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_HEAD_TIMEOUT_SECS",
        value_name = "N",
        default_value_t = Limits::default().head_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub head_timeout_secs: u64,
    /// Seconds a connection may wait for its next request before it is
    /// closed. Keep it above 90, the SDK's pool idle timeout, so that the
    /// emulator never closes a connection a client is reusing.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_IDLE_TIMEOUT_SECS",
        value_name = "N",
        default_value_t = Limits::default().idle_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub idle_timeout_secs: u64,
    /// The most connections open at once. Past it, a new connection takes
    /// the place of the one that has waited longest for a request, or, when
    /// every one has a request in flight, is answered 503 with Retry-After.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = Limits::default().max_connections as u64,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000)
    )]
    pub max_connections: u64,
    /// The most entries the request log keeps (the latest).
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_REQUEST_LOG_ENTRIES",
        value_name = "N",
        default_value_t = Limits::default().request_log_entries as u64,
        value_parser = clap::value_parser!(u64).range(1..=100_000_000)
    )]
    pub request_log_entries: u64,
    /// The most bytes the request log holds, all entries together.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_REQUEST_LOG_BYTES",
        value_name = "N",
        default_value_t = Limits::default().request_log_bytes as u64,
        value_parser = clap::value_parser!(u64).range(1024..)
    )]
    pub request_log_bytes: u64,
    /// The most bytes one request log entry holds (path, query, headers):
    /// longer values are cut and the entry marked truncated.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_REQUEST_LOG_ENTRY_BYTES",
        value_name = "N",
        default_value_t = Limits::default().request_log_entry_bytes as u64,
        value_parser = clap::value_parser!(u64).range(1024..)
    )]
    pub request_log_entry_bytes: u64,
    /// The largest token request body (the form, every field of it), in
    /// bytes: a larger one is answered 413.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_MAX_TOKEN_REQUEST_BYTES",
        value_name = "N",
        default_value_t = Limits::default().max_token_request_bytes as u64,
        value_parser = clap::value_parser!(u64).range(1024..=16 * 1024 * 1024)
    )]
    pub max_token_request_bytes: u64,
    /// The longest scope a grant may ask for, in bytes: a longer one is
    /// answered 400 invalid_scope.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_MAX_SCOPE_BYTES",
        value_name = "N",
        default_value_t = Limits::default().max_scope_bytes as u64,
        value_parser = clap::value_parser!(u64).range(1..=1024 * 1024)
    )]
    pub max_scope_bytes: u64,
    /// The most refresh grants, and access tokens, kept: past it the oldest
    /// is forgotten (its holder signs in again). Expired ones are swept.
    #[arg(
        long,
        env = "IDENTITY_EMULATOR_MAX_GRANTS",
        value_name = "N",
        default_value_t = Limits::default().max_grants as u64,
        value_parser = clap::value_parser!(u64).range(1..=100_000_000)
    )]
    pub max_grants: u64,
}

impl LimitArgs {
    /// The limits these flags describe.
    pub fn into_limits(self) -> Limits {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Limits {
            max_head_bytes: size(self.max_head_bytes),
            head_timeout: Duration::from_secs(self.head_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_connections: size(self.max_connections),
            request_log_entries: size(self.request_log_entries),
            request_log_bytes: size(self.request_log_bytes),
            request_log_entry_bytes: size(self.request_log_entry_bytes),
            max_token_request_bytes: size(self.max_token_request_bytes),
            max_scope_bytes: size(self.max_scope_bytes),
            max_grants: size(self.max_grants),
        }
    }
}

/// The rules of one `--fault`: one rule, or an array of them.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRules(pub Vec<FaultRule>);

impl fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.clone().into_config(), f)
    }
}

fn parse_fault_rules(text: &str) -> Result<FaultRules, String> {
    let rules = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<FaultRule>>(text)
    } else {
        serde_json::from_str::<FaultRule>(text).map(|rule| vec![rule])
    }
    .map_err(|error| error.to_string())?;
    for rule in &rules {
        rule.validate()?;
    }
    Ok(FaultRules(rules))
}

impl EmulatorArgs {
    /// The configuration these flags describe.
    pub fn into_config(self) -> EmulatorConfig {
        EmulatorConfig {
            bind: self.bind,
            access_tokens: self.access_tokens,
            username: self.username,
            password: self.password,
            client_id: self.client_id,
            client_secret: self.client_secret,
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            state_file: self.state_file,
            faults: self.faults.into_iter().flat_map(|rules| rules.0).collect(),
            allow_remote: self.allow_remote,
            rate_limit: self.rate_limit.and_then(NonZeroU32::new),
            seed_users: self.seed_users,
            limits: self.limits.into_limits(),
        }
    }
}
