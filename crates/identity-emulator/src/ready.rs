//! What [`run`](crate::run) prints once the emulator listens: the ready
//! line (`--ready-json`, for a test suite in any language) and the banner
//! (for a person), both saying the same.
//!
//! Neither prints back a password, client secret or static token that was
//! given to the emulator: whoever gave it has it, and the output ends up in
//! CI logs. They show the public defaults (`emulator-password`, ...), which
//! a fixture that gave none needs, and `null` (the banner: "given, not
//! shown") for the others. Bound to an unspecified address (`0.0.0.0`,
//! `[::]`), the URLs are loopback ones, which a client on this machine can
//! use, and the machine's other addresses are listed with the port.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::config::{DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD};
use crate::{Emulator, EmulatorConfig, Limits};

/// The line `--ready-json` prints.
#[derive(Serialize)]
struct Ready<'a> {
    base_url: String,
    token_url: String,
    root_url: String,
    hooks_url: String,
    health_url: String,
    /// The address it listens on, as bound (`0.0.0.0:18082`).
    listening_on: String,
    /// The machine's other addresses, with the port, when it listens on an
    /// unspecified address (empty otherwise).
    other_addresses: Vec<String>,
    /// `[]` when none was given, `null` when some were.
    access_tokens: Option<&'a [String]>,
    username: &'a str,
    /// The public default, or `null` when one was given.
    password: Option<&'a str>,
    client_id: &'a str,
    /// The public default, or `null` when one was given.
    client_secret: Option<&'a str>,
    state_file: Option<String>,
    version: &'static str,
    pid: u32,
}

/// `value` when it is the public default, `None` when it was given.
fn public<'a>(value: &'a str, default: &str) -> Option<&'a str> {
    (value == default).then_some(value)
}

/// One line of JSON: the URLs and the credentials that are not the caller's.
pub(crate) fn ready_line(emulator: &Emulator, config: &EmulatorConfig) -> String {
    let ready = Ready {
        base_url: emulator.base_url(),
        token_url: emulator.token_url(),
        root_url: emulator.root_url(),
        hooks_url: emulator.hooks_url(),
        health_url: emulator.health_url(),
        listening_on: emulator.addr().to_string(),
        other_addresses: other_addresses(emulator.addr())
            .iter()
            .map(SocketAddr::to_string)
            .collect(),
        access_tokens: config
            .access_tokens
            .is_empty()
            .then_some(&config.access_tokens[..]),
        username: &config.username,
        password: public(&config.password, DEFAULT_PASSWORD),
        client_id: &config.client_id,
        client_secret: public(&config.client_secret, DEFAULT_CLIENT_SECRET),
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

/// The machine's addresses other than loopback, with the port, when
/// `bound` is unspecified: IPv4 ones for `0.0.0.0`, both families for `[::]`
/// (a dual-stack socket, as on Linux by default). IPv6 link-local addresses
/// are left out: they need a zone to be used. Empty when `bound` is a
/// specific address, or when the interfaces cannot be read.
pub(crate) fn other_addresses(bound: SocketAddr) -> Vec<SocketAddr> {
    if !bound.ip().is_unspecified() {
        return Vec::new();
    }
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(error) => {
            tracing::warn!(%error, "cannot list the machine's addresses");
            return Vec::new();
        }
    };
    let mut addresses: Vec<SocketAddr> = interfaces
        .iter()
        .map(if_addrs::Interface::ip)
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| match ip {
            IpAddr::V4(_) => true,
            IpAddr::V6(v6) => bound.is_ipv6() && (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .map(|ip| SocketAddr::new(ip, bound.port()))
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses
}

/// What the binary prints at start, for a person: where it is, the
/// credentials that are not the caller's, the limits, and what it exposes.
pub(crate) fn banner(emulator: &Emulator, config: &EmulatorConfig) -> String {
    let state = config.state_file.as_ref().map_or_else(
        || "in memory only".to_owned(),
        |path| path.display().to_string(),
    );
    let rate_limit = config.rate_limit.map_or_else(
        || "none".to_owned(),
        |limit| format!("{limit} requests per second per token"),
    );
    let given = "(the one given; not shown)";
    let mut banner = format!(
        "FINBOURNE Identity emulator listening on {addr}\n\
         base URL (FBN_IDENTITY_URL):  {base}\n\
         token URL (FBN_TOKEN_URL):    {token}\n\
         username (FBN_USERNAME):      {username}\n\
         password (FBN_PASSWORD):      {password}\n\
         client id (FBN_CLIENT_ID):    {client_id}\n\
         client secret (FBN_CLIENT_SECRET): {client_secret}\n\
         static access tokens:         {tokens}\n\
         token lifetime:               {ttl} s\n\
         state:                        {state}\n\
         users:                        {users}\n\
         fault rules:                  {faults}\n\
         rate limit:                   {rate_limit}\n\
         limits:                       {limits}\n\
         hooks:                        {root}/_emulator/...\n\
         hook access:                  {hook_access}\n",
        addr = emulator.addr(),
        base = emulator.base_url(),
        token = emulator.token_url(),
        username = config.username,
        password = public(&config.password, DEFAULT_PASSWORD).unwrap_or(given),
        client_id = config.client_id,
        client_secret = public(&config.client_secret, DEFAULT_CLIENT_SECRET).unwrap_or(given),
        tokens = match config.access_tokens.len() {
            0 => "none".to_owned(),
            n => format!("{n} given (not shown)"),
        },
        ttl = config.token_ttl.as_secs(),
        users = emulator.user_count(),
        faults = config.faults.len(),
        limits = limits_line(&config.limits),
        root = emulator.root_url(),
        hook_access = if config.hooks_need_token() {
            "bearer token required (--allow-remote or --state-file)"
        } else {
            "open to local requests (no token needed)"
        },
    );
    if config.is_exposed() {
        banner.push_str(&exposure(emulator));
    } else if config.allow_remote {
        banner.push_str(
            "host names:                   any (--allow-remote), on a loopback address: \
             only this machine can connect\n",
        );
    }
    banner.push_str("Press Ctrl-C to stop.");
    banner
}

/// The limits, on one line.
fn limits_line(limits: &Limits) -> String {
    format!(
        "heads of {} bytes, read within {:?}; idle connections closed after {:?}; \
         {} connections; request log of {} entries or {} bytes; {} grants",
        limits.max_head_bytes,
        limits.head_timeout,
        limits.idle_timeout,
        limits.max_connections,
        limits.request_log_entries,
        limits.request_log_bytes,
        limits.max_grants,
    )
}

/// What an emulator that other machines can reach exposes, and to whom.
fn exposure(emulator: &Emulator) -> String {
    let addr = emulator.addr();
    let others = other_addresses(addr);
    let reachable = if others.is_empty() {
        format!(
            "{addr} (every address of this machine, port {})",
            addr.port()
        )
    } else {
        others
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "EXPOSED to other machines (--allow-remote on {addr}):\n\
         - reachable at:               {reachable}\n\
         - any host name is served; the hooks need a bearer token\n\
         - anyone holding the password and client secret, or a static token, can read, create,\n  \
           change and delete users, read the request log and reset everything (POST /_emulator/reset)\n\
         - plain HTTP: passwords and tokens cross the network in clear; clients opt in with\n  \
           FBN_ALLOW_INSECURE_HTTP=true (fbn-identity --allow-insecure-http)\n"
    )
}
