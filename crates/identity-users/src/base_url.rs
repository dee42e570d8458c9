//! The service's base URL, and how an operation's path joins it.
//!
//! The base URL may carry a path (`https://acme.lusid.com/identity`), with or
//! without a trailing slash; an operation path (`/api/users`) is joined to it
//! exactly once, as the official SDKs append `/api/...` to the URL they are
//! given.

use std::sync::Arc;

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::Error;

/// A parsed base URL: scheme, host and an optional path prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    /// The path without its trailing slash: empty, or `/identity`; shared
    /// by the clones of the API (a call copies it into its own path).
    prefix: Arc<str>,
}

impl BaseUrl {
    /// Parses an `http` or `https` URL with a host, and no query or fragment.
    ///
    /// ```
    /// use identity_users::BaseUrl;
    ///
    /// let base = BaseUrl::parse("https://acme.lusid.com/identity/")?;
    /// assert_eq!(base.to_string(), "https://acme.lusid.com/identity");
    /// # Ok::<(), identity_users::Error>(())
    /// ```
    pub fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::invalid_input("base URL", reason);
        let uri: Uri = url.parse().map_err(|_| {
            invalid("it is not a URL (expected e.g. https://acme.lusid.com/identity)")
        })?;
        let scheme = uri
            .scheme()
            .filter(|scheme| **scheme == Scheme::HTTP || **scheme == Scheme::HTTPS)
            .cloned()
            .ok_or_else(|| {
                invalid("it must start with https:// (or http:// for a local service)")
            })?;
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("it must not carry credentials"));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(invalid("it must not have a query or a fragment"));
        }
        let prefix = Arc::from(uri.path().trim_end_matches('/'));
        Ok(Self {
            scheme,
            authority,
            prefix,
        })
    }

    /// The scheme: `http` or `https`.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The host and port.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The base path (empty, or `/identity`), which an operation's path
    /// follows.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The scheme and host of a call's URL.
    pub(crate) fn origin(&self) -> Origin {
        Origin {
            scheme: self.scheme.clone(),
            authority: self.authority.clone(),
        }
    }
}

/// The scheme and host of one call's URL: what a call keeps of the base
/// URL once its path (which starts with the base path) is built.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    scheme: Scheme,
    authority: Authority,
}

impl Origin {
    /// The URL of an operation, from its path and query (built on
    /// [`BaseUrl::prefix`], already encoded), without copying them.
    pub(crate) fn uri(self, path_and_query: String) -> Result<Uri, Error> {
        let path_and_query = PathAndQuery::try_from(path_and_query)
            .map_err(|error| Error::invalid_input("request path", error.to_string()))?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme);
        parts.authority = Some(self.authority);
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts)
            .map_err(|error| Error::invalid_input("request URL", error.to_string()))
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Error> {
        Self::parse(url)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn paths_join_once_with_or_without_a_trailing_slash() {
        for base in [
            "https://acme.lusid.com/identity",
            "https://acme.lusid.com/identity/",
        ] {
            let base = BaseUrl::parse(base).unwrap();
            let uri = base
                .origin()
                .uri(format!("{}/api/users", base.prefix()))
                .unwrap();
            assert_eq!(uri, "https://acme.lusid.com/identity/api/users");
        }
        let base = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
        let uri = base
            .origin()
            .uri(format!(
                "{}/api/users?includeDeactivated=true",
                base.prefix()
            ))
            .unwrap();
        assert_eq!(
            uri,
            "http://127.0.0.1:8080/api/users?includeDeactivated=true"
        );
    }

    #[test]
    fn bad_base_urls_are_refused_with_the_reason() {
        for (url, reason) in [
            ("acme.lusid.com/identity", "https://"),
            ("ftp://acme.lusid.com", "https://"),
            ("https://user:pw@acme.lusid.com", "credentials"),
            ("https://acme.lusid.com/identity?x=1", "query"),
            ("not a url", "not a URL"),
        ] {
            let error = BaseUrl::parse(url).unwrap_err().to_string();
            assert!(error.contains(reason), "{url}: {error}");
            assert!(!error.contains("pw"), "{error}");
        }
    }
}
