//! The command line of the emulator binary, reusable by other binaries (the
//! SDK's CLI runs it as `fbn-identity emulator [flags]`): flatten
//! [`EmulatorArgs`] into a clap parser and hand it to [`run`].
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
//!     "emulator", "--bind", "127.0.0.1:0", "--access-token", "t1", "--access-token", "t2",
//!     "--token-ttl-secs", "60",
//!     "--fault", r#"{"operation":"GetUser","fault":{"kind":"status","status":503}}"#,
//! ])?;
//! let config = cli.emulator.into_config();
//! assert_eq!(config.access_tokens, ["t1", "t2"]);
//! assert_eq!(config.token_ttl.as_secs(), 60);
//! assert_eq!(config.faults[0].operation.as_deref(), Some("GetUser"));
//! # Ok::<(), clap::Error>(())
//! ```

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, MAX_TOKEN_TTL,
};
use crate::{Emulator, EmulatorConfig, EmulatorError, FaultRule};

/// The emulator's flags.
#[derive(Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (a loopback address unless --allow-remote).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Allow listening on a non-loopback address (the emulator has no real
    /// security): requests naming any host are then served, and the hooks
    /// need a bearer token.
    #[arg(long)]
    pub allow_remote: bool,
    /// A static bearer token every API call accepts (repeatable).
    #[arg(long = "access-token", value_name = "TOKEN")]
    pub access_tokens: Vec<String>,
    /// Username of the password grant.
    #[arg(long, default_value = DEFAULT_USERNAME)]
    pub username: String,
    /// Password of the password grant.
    #[arg(long, default_value = DEFAULT_PASSWORD)]
    pub password: String,
    /// Client id of the token endpoint.
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Client secret of the token endpoint.
    #[arg(long, default_value = DEFAULT_CLIENT_SECRET)]
    pub client_secret: String,
    /// Lifetime of issued access tokens, in seconds (at most 315360000, 10 years).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3600,
        value_parser = clap::value_parser!(u64).range(..=MAX_TOKEN_TTL.as_secs())
    )]
    pub token_ttl_secs: u64,
    /// Keep users and schema in this file (mode 0600), across restarts; the
    /// hooks then need a bearer token.
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// A fault rule as JSON (repeatable), e.g.
    /// '{"operation":"CreateUser","fault":{"kind":"status","status":429,"retryAfter":"1"},"when":{"kind":"next","n":2}}'.
    #[arg(long = "fault", value_name = "JSON", value_parser = parse_fault_rule)]
    pub faults: Vec<FaultRule>,
}

impl fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.clone().into_config(), f)
    }
}

fn parse_fault_rule(text: &str) -> Result<FaultRule, String> {
    let rule: FaultRule = serde_json::from_str(text).map_err(|error| error.to_string())?;
    rule.validate()?;
    Ok(rule)
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
            faults: self.faults,
            allow_remote: self.allow_remote,
        }
    }
}

/// Starts the emulator, prints its URLs and test credentials, and serves
/// until Ctrl-C, then shuts down gracefully.
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let config = args.into_config();
    let emulator = Emulator::start(config.clone()).await?;
    // One write, and a closed stdout is no reason to stop serving (println!
    // would panic on a broken pipe).
    let _ = writeln!(std::io::stdout().lock(), "{}", banner(&emulator, &config));
    let waited = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    waited.map_err(EmulatorError::Signal)
}

/// What the binary prints at start. The credentials are the emulator's own
/// test credentials, printed so a developer can use them.
fn banner(emulator: &Emulator, config: &EmulatorConfig) -> String {
    let state = config.state_file.as_ref().map_or_else(
        || "in memory only".to_owned(),
        |path| path.display().to_string(),
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
         fault rules:                  {faults}\n\
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
        faults = config.faults.len(),
        root = emulator.root_url(),
        hook_access = if config.hooks_need_token() {
            "bearer token required (--allow-remote or --state-file)"
        } else {
            "open to local requests (no token needed)"
        },
    )
}
