//! [`is_loopback`]: whether a host is this machine, by its spelling alone.
//!
//! The one answer for the SDK: the configuration allows plain `http://` to
//! such a host, the auth layer sends a bearer token over plain `http://`
//! only to it, and the HTTP client never sends it through a proxy.

use std::net::IpAddr;

/// Whether `host` (a URI's host: a name, an IPv4 address, or an IPv6
/// address in brackets) is this machine by its spelling: `localhost` (in
/// any case), an address of 127.0.0.0/8, `::1`, or `::ffff:127.x.y.z`. A
/// fully qualified name's trailing dot is ignored (`localhost.`). Nothing is
/// resolved: a name that a resolver maps to 127.0.0.1 is not loopback here.
///
/// ```
/// use identity_call::is_loopback;
///
/// assert!(is_loopback("127.0.0.1"));
/// assert!(is_loopback("[::1]"));
/// assert!(is_loopback("LOCALHOST"));
/// assert!(is_loopback("localhost."));
/// assert!(!is_loopback("acme.lusid.com"));
/// assert!(!is_loopback("localhost.acme.com"));
/// ```
pub fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_spellings() {
        for host in [
            "localhost",
            "LocalHost",
            "localhost.",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "::1",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "",
            ".",
            "localhost..",
            "my-localhost",
            "localhost.example.com",
            "10.0.0.1",
            "[::2]",
            "[::1",
            "0.0.0.0",
            "[::]",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
