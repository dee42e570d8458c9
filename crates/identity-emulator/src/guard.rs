//! Who may talk to the emulator at all: the checks every request meets
//! before the request log, the fault rules, a route or a hook sees it, so
//! that a page in the developer's browser cannot drive a local emulator.
//!
//! - **DNS rebinding.** A page of `attacker.example` whose name is made to
//!   resolve to 127.0.0.1 talks to the emulator as its own origin, but its
//!   requests name `attacker.example` in `Host` (or HTTP/2's `:authority`).
//!   Unless `allow_remote`, the host named must be `localhost`, `127.0.0.1`,
//!   `[::1]` or the bound IP address (case-insensitive, any port: only
//!   something on this machine, such as a port forward, can put a loopback
//!   name in front of another port, and no one else can make such a name
//!   mean their host). Anything else, a missing host included, is answered
//!   421 Misdirected Request: the emulator is not the server for that name.
//!   With `allow_remote`, other hosts reach it under names it cannot know
//!   (a host name, an address, a container's name), so any host is served;
//!   the hooks then need a bearer token, as the API always does, and a page
//!   has no way to get one (see the next point).
//! - **Cross-origin requests.** A browser names the page that sends a
//!   request in `Origin` (always for a cross-origin request, and for every
//!   request other than GET and HEAD). The emulator serves no pages, and the
//!   SDKs send no `Origin`, so a request whose `Origin` is not one of the
//!   emulator's own origins (`http://` + a loopback name or the bound IP,
//!   with the bound port) is answered 403, whatever its token, with or
//!   without `allow_remote`. This also keeps a rebound page (same-origin
//!   with `attacker.example`) from the token endpoint. The emulator never
//!   sends an `Access-Control-Allow-*` header, so no CORS preflight
//!   succeeds and no cross-origin answer can be read.
//!
//! Refusals are problem documents (code 0) and are logged at `warn`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use http::header::{HOST, ORIGIN};
use http::uri::Authority;
use http::{HeaderMap, Method, Uri};

use crate::problems::ApiError;

/// The port a host without one means (the emulator speaks plain HTTP).
const HTTP_PORT: u16 = 80;

/// Longest header value quoted back in a refusal.
const QUOTED_LIMIT: usize = 200;

/// Why a request is refused before anything else sees it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `Host` / `:authority` names another host, or none (421).
    MisdirectedHost {
        /// The host named, as sent (`None` when there is none).
        host: Option<String>,
    },
    /// `Origin` names another origin than the emulator's own (403).
    CrossOrigin {
        /// The origin named, as sent.
        origin: String,
    },
}

impl Refusal {
    /// Logs the refusal at `warn` (values quoted and escaped).
    pub(crate) fn log(&self, method: &Method, path: &str) {
        match self {
            Self::MisdirectedHost { host } => tracing::warn!(
                %method,
                path,
                host = host.as_deref().unwrap_or("(none)"),
                "refused a request naming another host (DNS rebinding?)"
            ),
            Self::CrossOrigin { origin } => tracing::warn!(
                %method,
                path,
                origin = origin.as_str(),
                "refused a request from another web origin"
            ),
        }
    }

    /// The problem answered.
    pub(crate) fn problem(&self, own: &str) -> ApiError {
        match self {
            Self::MisdirectedHost { host: Some(host) } => ApiError::misdirected(format!(
                "This emulator does not serve the host '{}': it answers only to \
                 localhost, 127.0.0.1, [::1] and {own}, so that a web page under another \
                 name cannot reach it (DNS rebinding). Use one of those, or start it with \
                 --allow-remote to serve any host name.",
                quoted(host)
            )),
            Self::MisdirectedHost { host: None } => ApiError::misdirected(format!(
                "The request names no host (Host or :authority): this emulator answers only \
                 to localhost, 127.0.0.1, [::1] and {own}."
            )),
            Self::CrossOrigin { origin } => ApiError::cross_origin(format!(
                "Requests from the web origin '{}' are refused: this emulator serves no web \
                 pages and takes no requests from them. Send the request without an Origin \
                 header, as the SDKs do.",
                quoted(origin)
            )),
        }
    }
}

/// A header value for a message: at most [`QUOTED_LIMIT`] characters.
fn quoted(value: &str) -> String {
    let mut quoted: String = value.chars().take(QUOTED_LIMIT).collect();
    if quoted.len() < value.len() {
        quoted.push_str("...");
    }
    quoted
}

/// The checks of one emulator, knowing the address it is bound to.
#[derive(Clone, Debug)]
pub(crate) struct RequestGuard {
    addr: SocketAddr,
    allow_remote: bool,
}

impl RequestGuard {
    pub(crate) fn new(addr: SocketAddr, allow_remote: bool) -> Self {
        Self { addr, allow_remote }
    }

    /// The bound address, as a URL writes it (`127.0.0.1:8080`, `[::1]:8080`).
    pub(crate) fn own_host(&self) -> String {
        self.addr.to_string()
    }

    /// Checks a request's target host and origin.
    pub(crate) fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        self.check_host(uri, headers)?;
        self.check_origin(headers)
    }

    fn check_host(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        if self.allow_remote {
            return Ok(());
        }
        // Every host the request names must be ours: HTTP/2's `:authority`
        // (or an absolute-form target) and each `Host` header.
        let from_uri = uri
            .authority()
            .map(|authority| authority.as_str().to_owned());
        let from_headers = headers
            .get_all(HOST)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let mut named = false;
        for host in from_uri.into_iter().chain(from_headers) {
            named = true;
            if !self.is_local_host(&host) {
                return Err(Refusal::MisdirectedHost { host: Some(host) });
            }
        }
        if named {
            Ok(())
        } else {
            Err(Refusal::MisdirectedHost { host: None })
        }
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        for value in headers.get_all(ORIGIN) {
            let origin = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if !self.is_own_origin(&origin) {
                return Err(Refusal::CrossOrigin { origin });
            }
        }
        Ok(())
    }

    /// `localhost`, `127.0.0.1`, `[::1]` or the bound IP, any port.
    fn is_local_host(&self, host: &str) -> bool {
        split_authority(host).is_some_and(|(name, _port)| self.is_local_name(&name))
    }

    /// `http://` and a local name with the bound port.
    fn is_own_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        scheme.eq_ignore_ascii_case("http")
            && split_authority(authority)
                .is_some_and(|(name, port)| port == self.addr.port() && self.is_local_name(&name))
    }

    fn is_local_name(&self, name: &str) -> bool {
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let address = name
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .map_or_else(
                || name.parse::<Ipv4Addr>().map(IpAddr::V4),
                |inner| inner.parse::<Ipv6Addr>().map(IpAddr::V6),
            );
        address.is_ok_and(|ip| {
            ip == IpAddr::V4(Ipv4Addr::LOCALHOST)
                || ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
                || ip == self.addr.ip()
        })
    }
}

/// `host[:port]` as a host name (IPv6 in brackets) and a port (80 when
/// none is given); `None` for anything else (user info, a path, an empty
/// or malformed value).
fn split_authority(text: &str) -> Option<(String, u16)> {
    if text.is_empty() || text.contains(['@', '/', '?', '#']) {
        return None;
    }
    let authority: Authority = text.parse().ok()?;
    let port = match authority.port() {
        Some(port) => port.as_u16(),
        None if authority.as_str().ends_with(':') => return None,
        None => HTTP_PORT,
    };
    Some((authority.host().to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(addr: &str, allow_remote: bool) -> RequestGuard {
        RequestGuard::new(addr.parse().unwrap(), allow_remote)
    }

    fn with_host(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, host.parse().unwrap());
        headers
    }

    fn host_ok(guard: &RequestGuard, host: &str) -> bool {
        guard
            .check(&Uri::from_static("/"), &with_host(host))
            .is_ok()
    }

    #[test]
    fn loopback_names_and_the_bound_address_are_served_on_any_port() {
        let guard = make("127.0.0.1:8080", false);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LocalHost:8080",
            "[::1]:8080",
            "[0:0:0:0:0:0:0:1]:8080",
            "localhost",
            "127.0.0.1:9000",
        ] {
            assert!(host_ok(&guard, host), "{host}");
        }
        for host in [
            "attacker.example:8080",
            "localhost.:8080",
            "sub.localhost:8080",
            "127.0.0.2:8080",
            "127.1:8080",
            "2130706433:8080",
            "user@localhost:8080",
            "localhost:",
            "",
            "[::1",
        ] {
            assert!(!host_ok(&guard, host), "{host}");
        }
        let v6 = make("[::1]:0", false);
        assert!(host_ok(&v6, "[::1]:0"));
        let other_loopback = make("127.0.0.7:8080", false);
        assert!(host_ok(&other_loopback, "127.0.0.7:8080"));
    }

    #[test]
    fn every_named_host_counts_and_none_is_refused() {
        let guard = make("127.0.0.1:8080", false);
        let absolute = Uri::from_static("http://attacker.example:8080/identity/api/users");
        assert!(
            guard
                .check(&absolute, &with_host("127.0.0.1:8080"))
                .is_err()
        );
        let mut two = with_host("127.0.0.1:8080");
        two.append(HOST, "attacker.example".parse().unwrap());
        assert!(guard.check(&Uri::from_static("/"), &two).is_err());
        assert_eq!(
            guard.check(&Uri::from_static("/"), &HeaderMap::new()),
            Err(Refusal::MisdirectedHost { host: None })
        );
    }

    #[test]
    fn only_the_own_origins_are_taken_even_with_allow_remote() {
        for allow_remote in [false, true] {
            let guard = make("127.0.0.1:8080", allow_remote);
            let origin = |origin: &str| {
                let mut headers = with_host("127.0.0.1:8080");
                headers.insert(ORIGIN, origin.parse().unwrap());
                guard.check(&Uri::from_static("/"), &headers)
            };
            for own in [
                "http://127.0.0.1:8080",
                "http://localhost:8080",
                "HTTP://[::1]:8080",
            ] {
                assert_eq!(origin(own), Ok(()), "{own}");
            }
            for foreign in [
                "http://attacker.example:8080",
                "http://localhost:3000",
                "https://127.0.0.1:8080",
                "null",
                "http://localhost",
            ] {
                assert!(
                    matches!(origin(foreign), Err(Refusal::CrossOrigin { .. })),
                    "{foreign}"
                );
            }
        }
    }

    #[test]
    fn allow_remote_serves_any_host() {
        let guard = make("0.0.0.0:8080", true);
        assert!(host_ok(&guard, "emulator.internal:8080"));
        assert!(
            guard
                .check(&Uri::from_static("/"), &HeaderMap::new())
                .is_ok()
        );
    }

    #[test]
    fn refusals_quote_at_most_a_few_hundred_characters() {
        let long = "a".repeat(1_000);
        let quoted = quoted(&long);
        assert_eq!(quoted.len(), QUOTED_LIMIT + 3);
    }
}
