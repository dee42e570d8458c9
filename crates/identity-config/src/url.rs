//! URL checks of the configuration: tokens never travel over plain http by
//! accident, and an Okta issuer URL gets its `/v1/token` path.

use http::Uri;
pub use identity_call::is_loopback;

use crate::{ConfigError, Setting, ValueSource};

/// Parses an http(s) URL the SDK sends requests with bearer tokens or
/// credentials to, refusing plain http to a host that is not loopback unless
/// `allow_insecure_http`.
pub(crate) fn parse_endpoint(
    setting: Setting,
    origin: &ValueSource,
    value: &str,
    allow_insecure_http: bool,
) -> Result<Uri, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidValue {
        setting,
        origin: origin.clone(),
        value: shown_url(value),
        reason: reason.to_owned(),
    };
    let uri: Uri = value.trim().parse().map_err(|_| invalid("not a URL"))?;
    let secure = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(invalid("the URL must start with https:// (or http://)")),
    };
    let Some(authority) = uri.authority() else {
        return Err(invalid("the URL has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid(
            "the URL must not hold credentials (user:password@)",
        ));
    }
    if authority.host().is_empty() {
        return Err(invalid("the URL has no host"));
    }
    if !secure && !allow_insecure_http && !is_loopback(authority.host()) {
        return Err(ConfigError::InsecureUrl {
            setting,
            origin: origin.clone(),
            url: format!("http://{authority}"),
        });
    }
    Ok(uri)
}

/// The token URL to post to: as given, except that an Okta issuer URL
/// (`https://<org>.okta.com/oauth2/<server>`) gets the `/v1/token` it lacks,
/// as the official SDKs do.
pub(crate) fn okta_token_url(uri: Uri) -> Uri {
    let is_okta = uri.host().is_some_and(|host| {
        let host = host.to_ascii_lowercase();
        host == "okta.com" || host.ends_with(".okta.com")
    });
    let path = uri.path().trim_end_matches('/');
    if !is_okta || path.ends_with("/v1/token") {
        return uri;
    }
    let joined = match uri.query() {
        Some(query) => format!("{path}/v1/token?{query}"),
        None => format!("{path}/v1/token"),
    };
    let mut parts = uri.clone().into_parts();
    match joined.parse() {
        Ok(path_and_query) => {
            parts.path_and_query = Some(path_and_query);
            Uri::from_parts(parts).unwrap_or(uri)
        }
        Err(_) => uri,
    }
}

/// A URL as it may appear in an error: not at all when it may hold
/// credentials.
pub(crate) fn shown_url(value: &str) -> Option<String> {
    (!value.contains('@')).then(|| value.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(value: &str, allow: bool) -> Result<Uri, ConfigError> {
        parse_endpoint(Setting::TokenUrl, &ValueSource::Builder, value, allow)
    }

    #[test]
    fn okta_issuer_urls_get_the_token_path() {
        let join = |s: &str| okta_token_url(s.parse().unwrap()).to_string();
        assert_eq!(
            join("https://acme.okta.com/oauth2/abc"),
            "https://acme.okta.com/oauth2/abc/v1/token"
        );
        assert_eq!(
            join("https://acme.okta.com/oauth2/abc/"),
            "https://acme.okta.com/oauth2/abc/v1/token"
        );
        assert_eq!(
            join("https://acme.okta.com/oauth2/abc/v1/token"),
            "https://acme.okta.com/oauth2/abc/v1/token"
        );
        assert_eq!(
            join("https://ACME.OKTA.COM/oauth2/abc"),
            "https://ACME.OKTA.COM/oauth2/abc/v1/token"
        );
        // Other hosts keep their URL as given.
        assert_eq!(
            join("https://login.example.com/oauth2/abc"),
            "https://login.example.com/oauth2/abc"
        );
        assert_eq!(
            join("https://notokta.com/oauth2/abc"),
            "https://notokta.com/oauth2/abc"
        );
    }

    #[test]
    fn plain_http_is_refused_unless_loopback_or_allowed() {
        for url in [
            "http://127.0.0.1:8080/oauth2/token",
            "http://127.9.9.9/x",
            "http://[::1]:9000/x",
            "http://localhost/x",
            "http://LocalHost:1/x",
            "https://example.com/x",
        ] {
            assert!(endpoint(url, false).is_ok(), "{url}");
        }
        for url in [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://[::2]/x",
        ] {
            let err = endpoint(url, false).unwrap_err();
            assert!(
                matches!(err, ConfigError::InsecureUrl { .. }),
                "{url}: {err}"
            );
            assert!(endpoint(url, true).is_ok(), "{url}");
        }
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let err = endpoint("ftp://example.com/x", false).unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
        let err = endpoint("not a url", false).unwrap_err();
        assert!(err.to_string().contains("not a URL"), "{err}");
        let err = endpoint("/relative/path", false).unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
        let err = endpoint("https://user:hunter2@example.com/x", false).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("credentials"), "{err}");
    }
}
