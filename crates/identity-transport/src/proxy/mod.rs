//! Proxies of [`HttpClient`](crate::HttpClient): which targets go through
//! which HTTP proxy, and how.
//!
//! For each connection it opens, the client picks a route for the target,
//! in this order:
//!
//! 1. a loopback target (`localhost`, 127.0.0.0/8, `::1`) is always reached
//!    directly: a local emulator or test server is never sent through a
//!    proxy;
//! 2. the explicit proxy ([`ProxyConfig`], given with
//!    [`HttpClientBuilder::proxy`](crate::HttpClientBuilder::proxy); the
//!    facade's `FBN_PROXY_*` settings) carries every other target;
//! 3. without one, the standard variables ([`ProxyEnv`]): `HTTPS_PROXY` for
//!    `https://` targets, `HTTP_PROXY` for `http://` ones, `ALL_PROXY` for
//!    both when the specific one is not set, except for the hosts of
//!    `NO_PROXY`; the matching is hyper-util's proxy matcher (the rules of
//!    curl and reqwest), with port entries added here;
//! 4. otherwise, directly.
//!
//! A proxy is reached over TCP (`http://`) or TLS (`https://`, verified as
//! any server is), and every target, `http://` or `https://`, through a
//! CONNECT tunnel: the proxy sees the target's host and port, never the
//! request, and TLS to an `https://` target runs inside the tunnel.
//! Credentials, from the proxy's URL (`http://user:pass@proxy:3128`) or
//! given apart, are sent as `Proxy-Authorization: Basic` on the CONNECT
//! request only, and appear in no `Debug` output, log or error.

mod config;
mod env;
mod routes;

use std::fmt;

use http::{HeaderValue, Uri};

pub use config::ProxyConfig;
pub use env::ProxyEnv;
pub(crate) use routes::{Route, Routes};

/// A proxy, ready to connect to: its URI (`http://host:port/` or
/// `https://host:port/`) and the `Proxy-Authorization` value of its
/// CONNECT requests, marked sensitive.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) uri: Uri,
    pub(crate) authorization: Option<HeaderValue>,
}

impl Endpoint {
    /// `host:port` of the proxy, for messages.
    pub(crate) fn host_port(&self) -> String {
        let host = self.uri.host().unwrap_or("?");
        let port = self
            .uri
            .port_u16()
            .unwrap_or(default_port(self.uri.scheme_str()));
        format!("{host}:{port}")
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("proxy", &self.host_port())
            .field("scheme", &self.uri.scheme_str())
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// The port of a scheme when a URI gives none.
pub(crate) fn default_port(scheme: Option<&str>) -> u16 {
    match scheme {
        Some("https") => 443,
        _ => 80,
    }
}
