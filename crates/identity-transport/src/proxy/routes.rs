//! [`Routes`]: for each target, directly or through which proxy (the order
//! is in the [module docs](super)).

use std::borrow::Cow;

use http::Uri;
use hyper_util::client::proxy::matcher::Matcher;

use super::config::ParsedProxy;
use super::env::{NoProxy, Variable, without_credentials};
use super::{Endpoint, ProxyConfig, ProxyEnv, default_port};
use crate::error::BuildError;

/// The routes of one client, fixed when it is built.
#[derive(Debug)]
pub(crate) struct Routes {
    explicit: Option<Endpoint>,
    env: Option<EnvRoutes>,
}

/// How a connection to a target is opened.
#[derive(Debug)]
pub(crate) enum Route {
    Direct,
    Proxy(Endpoint),
}

/// The standard variables, matched by hyper-util's matcher.
struct EnvRoutes {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, and the entries of
    /// `NO_PROXY` without a port.
    matcher: Matcher,
    /// The entries of `NO_PROXY` with a port, by port. hyper-util's matcher
    /// knows no ports, and shows its `NO_PROXY` rules only through
    /// `intercept`: a matcher that sends every target to a placeholder
    /// proxy, except those of its list, tells by answering `None` that its
    /// list holds a target.
    bypass_by_port: Vec<(u16, Matcher)>,
}

/// The placeholder proxy of the `bypass_by_port` matchers; never connected to.
const PLACEHOLDER: &str = "http://no-proxy.invalid";

impl Routes {
    /// The routes of an explicit proxy, else of the variables, else none.
    pub(crate) fn new(
        explicit: Option<&ProxyConfig>,
        env: Option<&ProxyEnv>,
    ) -> Result<Self, BuildError> {
        if let Some(config) = explicit {
            return Ok(Self {
                explicit: Some(config.endpoint()?),
                env: None,
            });
        }
        let env = match env {
            Some(env) if !env.is_empty() => EnvRoutes::new(env)?,
            _ => None,
        };
        Ok(Self {
            explicit: None,
            env,
        })
    }

    /// The route of a connection to `target`.
    pub(crate) fn route(&self, target: &Uri) -> Route {
        let Some(host) = target.host() else {
            return Route::Direct;
        };
        if identity_call::is_loopback(host) {
            return Route::Direct;
        }
        if let Some(explicit) = &self.explicit {
            return Route::Proxy(explicit.clone());
        }
        match &self.env {
            Some(env) => env.route(target),
            None => Route::Direct,
        }
    }

    /// Whether every target is reached directly.
    #[cfg(test)]
    pub(crate) fn is_direct(&self) -> bool {
        self.explicit.is_none() && self.env.is_none()
    }
}

impl EnvRoutes {
    /// The routes of the variables; `None` when `NO_PROXY` is `*`. A
    /// variable that is set but unusable is an error naming it.
    fn new(env: &ProxyEnv) -> Result<Option<Self>, BuildError> {
        for variable in env.proxies() {
            check(variable)?;
        }
        let no_proxy = env
            .no
            .as_ref()
            .map(|no| NoProxy::parse(&no.value))
            .unwrap_or_default();
        if no_proxy.everything {
            return Ok(None);
        }
        let value = |variable: &Option<Variable>| {
            variable
                .as_ref()
                .map_or_else(String::new, |v| v.value.clone())
        };
        let matcher = Matcher::builder()
            .https(value(&env.https))
            .http(value(&env.http))
            .all(value(&env.all))
            .no(no_proxy.any_port.join(","))
            .build();
        let mut ports: Vec<u16> = no_proxy.by_port.iter().map(|(port, _)| *port).collect();
        ports.sort_unstable();
        ports.dedup();
        let bypass_by_port = ports
            .into_iter()
            .map(|port| {
                let hosts: Vec<&str> = no_proxy
                    .by_port
                    .iter()
                    .filter(|(p, _)| *p == port)
                    .map(|(_, host)| host.as_str())
                    .collect();
                let bypass = Matcher::builder()
                    .all(PLACEHOLDER)
                    .no(hosts.join(","))
                    .build();
                (port, bypass)
            })
            .collect();
        Ok(Some(Self {
            matcher,
            bypass_by_port,
        }))
    }

    fn route(&self, target: &Uri) -> Route {
        let port = target
            .port_u16()
            .unwrap_or(default_port(target.scheme_str()));
        let bypassed = self
            .bypass_by_port
            .iter()
            .any(|(p, bypass)| *p == port && bypass.intercept(target).is_none());
        if bypassed {
            return Route::Direct;
        }
        match self.matcher.intercept(target) {
            Some(intercept) => Route::Proxy(Endpoint {
                uri: intercept.uri().clone(),
                authorization: intercept.basic_auth().cloned(),
            }),
            None => Route::Direct,
        }
    }
}

impl std::fmt::Debug for EnvRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // hyper-util's `Debug` of a matcher leaves credentials out.
        f.debug_struct("EnvRoutes")
            .field("matcher", &self.matcher)
            .field(
                "bypass_ports",
                &self
                    .bypass_by_port
                    .iter()
                    .map(|(p, _)| p)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A proxy variable's value is a usable proxy URL, else an error naming the
/// variable and showing the value without credentials.
fn check(variable: &Variable) -> Result<(), BuildError> {
    let invalid = |reason: Cow<'static, str>| BuildError::InvalidProxy {
        setting: Cow::Owned(format!(
            "{} ({})",
            variable.name,
            without_credentials(&variable.value)
        )),
        reason,
    };
    let uri: Uri = variable
        .value
        .parse()
        .map_err(|_| invalid(Cow::Borrowed("not a URL")))?;
    ParsedProxy::of(&uri).map(drop).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn routes(pairs: &[(&str, &str)]) -> Routes {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let env = ProxyEnv::from_lookup(|name| map.get(name).map(|v| (*v).to_owned()));
        Routes::new(None, Some(&env)).unwrap()
    }

    /// The proxy `target` goes through, as `host:port`, or `None` when direct.
    fn via(routes: &Routes, target: &str) -> Option<String> {
        match routes.route(&target.parse().unwrap()) {
            Route::Direct => None,
            Route::Proxy(endpoint) => Some(endpoint.host_port()),
        }
    }

    #[test]
    fn loopback_targets_are_never_proxied() {
        let explicit = ProxyConfig::new("http://proxy.corp:3128".parse().unwrap());
        let routes = Routes::new(Some(&explicit), None).unwrap();
        for target in [
            "http://localhost:8080/",
            "https://LOCALHOST./",
            "http://127.0.0.1:1/",
            "http://127.9.9.9/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert_eq!(via(&routes, target), None, "{target}");
        }
        assert_eq!(
            via(&routes, "https://acme.lusid.com/identity").as_deref(),
            Some("proxy.corp:3128")
        );
        let env = routes_all();
        assert_eq!(via(&env, "http://127.0.0.1:8080/"), None);
    }

    fn routes_all() -> Routes {
        routes(&[("ALL_PROXY", "http://all.corp:1")])
    }

    #[test]
    fn each_scheme_has_its_variable_and_all_proxy_fills_in() {
        let r = routes(&[
            ("HTTPS_PROXY", "http://secure.corp:3128"),
            ("all_proxy", "all.corp:8080"),
        ]);
        assert_eq!(
            via(&r, "https://acme.lusid.com/").as_deref(),
            Some("secure.corp:3128")
        );
        assert_eq!(
            via(&r, "http://acme.lusid.com/").as_deref(),
            Some("all.corp:8080")
        );
        let only_http = routes(&[("http_proxy", "http://plain.corp:3128")]);
        assert_eq!(via(&only_http, "https://acme.lusid.com/"), None);
        assert!(routes(&[]).is_direct());
    }

    #[test]
    fn no_proxy_follows_curl_and_reqwest() {
        let r = routes(&[
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            (
                "NO_PROXY",
                "internal.corp, .svc.local, *.wild.example, 10.0.0.0/8, 192.168.1.7, fd00::/8, api.example.test:8443",
            ),
        ]);
        for direct in [
            "https://internal.corp/",
            "https://deep.internal.corp/",
            "https://svc.local/",
            "https://a.svc.local/",
            "https://x.wild.example/",
            "https://10.1.2.3/",
            "https://192.168.1.7:9443/",
            "https://[fd00::5]/",
            "https://api.example.test:8443/",
        ] {
            assert_eq!(via(&r, direct), None, "{direct}");
        }
        for proxied in [
            "https://notinternal.corp/",
            "https://internal.corp.evil.example/",
            "https://11.1.2.3/",
            "https://192.168.1.8/",
            "https://[fe80::1]/",
            "https://api.example.test/",
            "https://api.example.test:9443/",
        ] {
            assert_eq!(
                via(&r, proxied).as_deref(),
                Some("proxy.corp:3128"),
                "{proxied}"
            );
        }
        let star = routes(&[("HTTPS_PROXY", "proxy.corp:1"), ("no_proxy", "*")]);
        assert_eq!(via(&star, "https://anything.example/"), None);
        assert_eq!(via(&star, "https://203.0.113.9/"), None);
    }

    #[test]
    fn credentials_in_a_variable_become_a_sensitive_header() {
        let r = routes(&[("HTTPS_PROXY", "http://ann:s%3Acret@proxy.corp:3128")]);
        let Route::Proxy(endpoint) = r.route(&"https://acme.lusid.com/".parse().unwrap()) else {
            panic!("not proxied");
        };
        let header = endpoint.authorization.clone().unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header, "Basic YW5uOnM6Y3JldA==");
        assert_eq!(endpoint.uri.host(), Some("proxy.corp"));
        let debug = format!("{r:?} {endpoint:?}");
        assert!(
            !debug.contains("cret") && !debug.contains("YW5uOnM6Y3JldA"),
            "{debug}"
        );
    }

    #[test]
    fn an_unusable_variable_is_an_error_naming_it() {
        for (name, value) in [
            ("ALL_PROXY", "socks5h://ann:hunter2@127.0.0.1:1080"),
            ("https_proxy", "http://"),
        ] {
            let env = ProxyEnv::from_lookup(|n| (n == name).then(|| value.to_owned()));
            let error = Routes::new(None, Some(&env)).unwrap_err();
            let message = error.to_string();
            assert!(message.contains(name), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn an_explicit_proxy_wins_over_the_variables() {
        let env = ProxyEnv::from_lookup(|name| {
            (name == "HTTPS_PROXY").then(|| "http://env.corp:1".to_owned())
        });
        let explicit = ProxyConfig::new("https://explicit.corp:8443".parse().unwrap());
        let r = Routes::new(Some(&explicit), Some(&env)).unwrap();
        assert_eq!(
            via(&r, "https://acme.lusid.com/").as_deref(),
            Some("explicit.corp:8443")
        );
    }
}
