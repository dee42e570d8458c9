//! The command line of the emulator binary, reusable by other binaries (the
//! SDK's CLI runs it as `fbn-identity emulator [flags]`): flatten
//! [`EmulatorArgs`] into a clap parser and hand it to [`run`].
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
//!  "health_url":"http://127.0.0.1:41234/_emulator/health","access_tokens":["dev"],
//!  "username":"emulator-user","password":"emulator-password","client_id":"emulator-client",
//!  "client_secret":"emulator-client-secret","state_file":null,"version":"0.1.0","pid":4242}
//! ```
//!
//! (on one line). SIGTERM or SIGINT (Ctrl-C) stops it gracefully: it stops
//! accepting connections, lets the requests in flight finish (for at most
//! 5 seconds), folds the state file's journal into its snapshot, and exits
//! with status 0.

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::FalseyValueParser;
use serde::Serialize;

use crate::config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, MAX_SEED_USERS,
    MAX_TOKEN_TTL,
};
use crate::{Emulator, EmulatorConfig, EmulatorError, FaultRule};

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
        }
    }
}

/// Starts the emulator, prints its URLs and test credentials (the banner on
/// stdout, or with `--ready-json` one JSON line on stdout and the banner on
/// stderr), and serves until SIGTERM or SIGINT (Ctrl-C), then shuts down
/// gracefully: in-flight requests finish (for at most 5 seconds) and the
/// state file's journal is folded into its snapshot.
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let ready_json = args.ready_json;
    let config = args.into_config();
    let emulator = Emulator::start(config.clone()).await?;
    // Listening for the signals before saying it is ready: a test suite may
    // send SIGTERM as soon as it has read the line.
    let stop = StopSignals::listen()?;
    // One write each, and a closed stdout is no reason to stop serving
    // (println! would panic on a broken pipe).
    let banner = banner(&emulator, &config);
    if ready_json {
        let mut line = ready_line(&emulator, &config);
        line.push('\n');
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(line.as_bytes());
        let _ = stdout.flush();
        drop(stdout);
        let _ = writeln!(std::io::stderr().lock(), "{banner}");
    } else {
        let _ = writeln!(std::io::stdout().lock(), "{banner}");
    }
    let signal = stop.wait().await;
    tracing::info!(signal, "shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// SIGTERM and SIGINT on Unix; Ctrl-C elsewhere.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> Result<Self, EmulatorError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate()).map_err(EmulatorError::Signal)?,
                interrupt: signal(SignalKind::interrupt()).map_err(EmulatorError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// The name of the signal that came.
    async fn wait(self) -> &'static str {
        #[cfg(unix)]
        {
            let Self {
                mut terminate,
                mut interrupt,
            } = self;
            tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(error) => {
                    tracing::error!(%error, "cannot wait for Ctrl-C; stopping");
                    "none"
                }
            }
        }
    }
}

/// The line `--ready-json` prints.
#[derive(Serialize)]
struct Ready<'a> {
    base_url: String,
    token_url: String,
    root_url: String,
    hooks_url: String,
    health_url: String,
    access_tokens: &'a [String],
    username: &'a str,
    password: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    state_file: Option<String>,
    version: &'static str,
    pid: u32,
}

/// One line of JSON: the URLs and the test credentials.
fn ready_line(emulator: &Emulator, config: &EmulatorConfig) -> String {
    let ready = Ready {
        base_url: emulator.base_url(),
        token_url: emulator.token_url(),
        root_url: emulator.root_url(),
        hooks_url: emulator.hooks_url(),
        health_url: emulator.health_url(),
        access_tokens: &config.access_tokens,
        username: &config.username,
        password: &config.password,
        client_id: &config.client_id,
        client_secret: &config.client_secret,
        state_file: config
            .state_file
            .as_ref()
            .map(|path| path.display().to_string()),
        version: env!("CARGO_PKG_VERSION"),
        pid: std::process::id(),
    };
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_string(&ready).unwrap_or_default()
}

/// What the binary prints at start. The credentials are the emulator's own
/// test credentials, printed so a developer can use them.
fn banner(emulator: &Emulator, config: &EmulatorConfig) -> String {
    let state = config.state_file.as_ref().map_or_else(
        || "in memory only".to_owned(),
        |path| path.display().to_string(),
    );
    let rate_limit = config.rate_limit.map_or_else(
        || "none".to_owned(),
        |limit| format!("{limit} requests per second per token"),
    );
    format!(
        "FINBOURNE Identity emulator listening on {addr}\n\
         base URL (FBN_IDENTITY_URL):  {base}\n\
         token URL (FBN_TOKEN_URL):    {token}\n\
         username (FBN_USERNAME):      {username}\n\
         password (FBN_PASSWORD):      {password}\n\
         client id (FBN_CLIENT_ID):    {client_id}\n\
         client secret (FBN_CLIENT_SECRET): {client_secret}\n\
         static access tokens:         {tokens} configured\n\
         token lifetime:               {ttl} s\n\
         state:                        {state}\n\
         users:                        {users}\n\
         fault rules:                  {faults}\n\
         rate limit:                   {rate_limit}\n\
         hooks:                        {root}/_emulator/...\n\
         hook access:                  {hook_access}\n\
         Press Ctrl-C to stop.",
        addr = emulator.addr(),
        base = emulator.base_url(),
        token = emulator.token_url(),
        username = config.username,
        password = config.password,
        client_id = config.client_id,
        client_secret = config.client_secret,
        tokens = config.access_tokens.len(),
        ttl = config.token_ttl.as_secs(),
        users = emulator.user_count(),
        faults = config.faults.len(),
        root = emulator.root_url(),
        hook_access = if config.hooks_need_token() {
            "bearer token required (--allow-remote or --state-file)"
        } else {
            "open to local requests (no token needed)"
        },
    )
}
