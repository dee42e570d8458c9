//! [`ProxyEnv`]: the standard proxy variables, read from the process
//! environment or from a lookup function (tests give a map, so that no test
//! changes the environment of a process whose other tests run beside it).

use std::fmt;
use std::net::IpAddr;

/// The standard proxy variables of a machine: `HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY` and `NO_PROXY`, each in upper or lower case.
///
/// - `HTTPS_PROXY` is the proxy of `https://` targets, `HTTP_PROXY` of
///   `http://` ones, `ALL_PROXY` of both when the specific one is not set.
///   A value is a proxy URL: `http://host:port`, `https://host:port` or
///   `host:port`, optionally with `user:password@` (percent-encoded).
/// - `NO_PROXY` is a comma-separated list of targets reached directly: a
///   host name matches itself and its subdomains (`example.com`,
///   `.example.com` and `*.example.com` alike), an IP address or a CIDR
///   range (`10.0.0.0/8`, `fd00::/8`) matches addresses, `*` matches
///   everything, and an entry with a port (`internal.corp:8443`,
///   `[fd00::1]:8443`) matches that port only.
/// - The upper-case name wins when both are set; an empty value counts as
///   not set. In a CGI program (`REQUEST_METHOD` set) `HTTP_PROXY` is not
///   read: a request's `Proxy:` header arrives there as `HTTP_PROXY`.
///
/// [`HttpClientBuilder`](crate::HttpClientBuilder) reads them from the
/// process unless given others with
/// [`proxy_env`](crate::HttpClientBuilder::proxy_env), and not at all after
/// [`system_proxy(false)`](crate::HttpClientBuilder::system_proxy). A proxy
/// given with [`proxy`](crate::HttpClientBuilder::proxy) wins over them.
///
/// ```
/// use std::collections::HashMap;
/// use identity_transport::{HttpClient, ProxyEnv};
///
/// let vars = HashMap::from([
///     ("HTTPS_PROXY", "http://proxy.corp:3128"),
///     ("no_proxy", "internal.corp,10.0.0.0/8"),
/// ]);
/// let env = ProxyEnv::from_lookup(|name| vars.get(name).map(|value| value.to_string()));
/// assert!(!env.is_empty());
/// let client = HttpClient::builder().proxy_env(env).build()?;
/// # let _ = client;
/// # Ok::<(), identity_transport::BuildError>(())
/// ```
#[derive(Clone, Default)]
pub struct ProxyEnv {
    pub(crate) https: Option<Variable>,
    pub(crate) http: Option<Variable>,
    pub(crate) all: Option<Variable>,
    pub(crate) no: Option<Variable>,
}

/// A variable that is set: its name as found, and its value.
#[derive(Clone)]
pub(crate) struct Variable {
    pub(crate) name: &'static str,
    pub(crate) value: String,
}

impl ProxyEnv {
    /// No variable set.
    pub fn none() -> Self {
        Self::default()
    }

    /// The variables of this process's environment.
    pub fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The variables as `lookup` gives them (a variable's value by name).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                lookup(name)
                    .map(|value| value.trim().to_owned())
                    .filter(|value| !value.is_empty())
                    .map(|value| Variable { name, value })
            })
        };
        let is_cgi = lookup("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] = if is_cgi {
            &["http_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy"]
        };
        Self {
            https: first(&["HTTPS_PROXY", "https_proxy"]),
            http: first(http_names),
            all: first(&["ALL_PROXY", "all_proxy"]),
            no: first(&["NO_PROXY", "no_proxy"]),
        }
    }

    /// Whether no proxy variable is set (`NO_PROXY` alone counts as none).
    pub fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none() && self.all.is_none()
    }

    /// The proxy variables that are set, most specific first.
    pub(crate) fn proxies(&self) -> impl Iterator<Item = &Variable> {
        [&self.https, &self.http, &self.all]
            .into_iter()
            .filter_map(Option::as_ref)
    }
}

/// Shows which variables are set and the proxies' hosts, never credentials.
impl fmt::Debug for ProxyEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_map();
        for variable in self.proxies() {
            debug.entry(&variable.name, &without_credentials(&variable.value));
        }
        if let Some(no) = &self.no {
            debug.entry(&no.name, &no.value);
        }
        debug.finish()
    }
}

/// A proxy URL with any `user:password@` replaced.
pub(crate) fn without_credentials(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, value),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let shown = match rest[..authority_end].rfind('@') {
        Some(at) => format!("[REDACTED]@{}", &rest[at + 1..]),
        None => rest.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{shown}"),
        None => shown,
    }
}

/// `NO_PROXY` taken apart: whether it is `*`, the entries without a port
/// (for hyper-util's matcher, in its syntax) and those with one.
#[derive(Debug, Default)]
pub(crate) struct NoProxy {
    pub(crate) everything: bool,
    pub(crate) any_port: Vec<String>,
    pub(crate) by_port: Vec<(u16, String)>,
}

impl NoProxy {
    pub(crate) fn parse(list: &str) -> Self {
        let mut no_proxy = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no_proxy.everything = true;
                continue;
            }
            let (host, port) = split_port(entry);
            // `*.example.com` means `.example.com`: the domain and its
            // subdomains, as hyper-util reads `example.com`.
            let host = match host.strip_prefix("*.") {
                Some(domain) => format!(".{domain}"),
                None => host.to_owned(),
            };
            match port {
                Some(port) => no_proxy.by_port.push((port, host)),
                None => no_proxy.any_port.push(host),
            }
        }
        no_proxy
    }
}

/// An entry's host (IPv6 without brackets) and port, if it has one.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((address, after)) = rest.split_once(']')
    {
        return match after.strip_prefix(':').map(str::parse::<u16>) {
            Some(Ok(port)) => (address, Some(port)),
            _ => (address, None),
        };
    }
    // An IPv6 address or a CIDR range has colons or a slash, and no port.
    if entry.parse::<IpAddr>().is_ok() || entry.contains('/') {
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse::<u16>() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyEnv::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn upper_case_wins_and_empty_counts_as_unset() {
        let vars = env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
            ("HTTP_PROXY", " "),
            ("http_proxy", "http://lower-http:1"),
        ]);
        assert_eq!(vars.https.as_ref().unwrap().value, "http://upper:1");
        assert_eq!(vars.http.as_ref().unwrap().name, "http_proxy");
        assert!(vars.all.is_none());
        assert!(env(&[("NO_PROXY", "x")]).is_empty());
    }

    #[test]
    fn cgi_programs_ignore_http_proxy_upper_case() {
        let vars = env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://from-a-header:1"),
        ]);
        assert!(vars.http.is_none());
        let vars = env(&[("REQUEST_METHOD", "GET"), ("http_proxy", "http://mine:1")]);
        assert_eq!(vars.http.unwrap().value, "http://mine:1");
    }

    #[test]
    fn debug_hides_credentials() {
        let vars = env(&[("ALL_PROXY", "http://ann:hunter2@proxy:3128")]);
        let debug = format!("{vars:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("ALL_PROXY") && debug.contains("proxy:3128"),
            "{debug}"
        );
        assert_eq!(without_credentials("ann:pw@proxy:1"), "[REDACTED]@proxy:1");
    }

    #[test]
    fn no_proxy_entries_are_split_by_port() {
        let no = NoProxy::parse(
            " example.com, *.corp.example, .svc:8443, 10.0.0.0/8, ::1, [fd00::1]:9000, 192.168.1.1:80, [fd00::2],,",
        );
        assert!(!no.everything);
        assert_eq!(
            no.any_port,
            [
                "example.com",
                ".corp.example",
                "10.0.0.0/8",
                "::1",
                "fd00::2"
            ]
        );
        assert_eq!(
            no.by_port,
            [
                (8443, ".svc".to_owned()),
                (9000, "fd00::1".to_owned()),
                (80, "192.168.1.1".to_owned())
            ]
        );
        assert!(NoProxy::parse("a, *").everything);
    }
}
