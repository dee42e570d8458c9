//! Reading the token endpoint's answers: the token (RFC 6749 section 5.1) and
//! the OAuth2 error (section 5.2).
//!
//! The body holds secrets, so nothing here ever quotes it: a bad answer is
//! described by which field is wrong, not by its content. The text that is
//! kept (an error's description, a wrong `token_type`) has the request's
//! own secrets removed first ([`Secrets`]), in case the server echoes the
//! request, and only then is shortened (so that no part of one is left).

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::redact::Secrets;
use crate::{AuthError, OAuthErrorCode};

/// Longest `error_description` kept, in characters.
const MAX_DESCRIPTION: usize = 300;

/// A successful token answer.
pub(crate) struct TokenResponse {
    pub(crate) access_token: SecretString,
    pub(crate) expires_in: Option<u64>,
    pub(crate) refresh_token: Option<SecretString>,
}

fn bad(reason: impl Into<String>) -> AuthError {
    AuthError::BadResponse {
        reason: reason.into(),
    }
}

/// Parses `{"access_token", "token_type", "expires_in", "refresh_token", "scope"}`.
pub(crate) fn parse_token(body: &[u8], secrets: &Secrets) -> Result<TokenResponse, AuthError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| bad("the body is not JSON"))?;
    let Value::Object(mut fields) = value else {
        return Err(bad("the body is not a JSON object"));
    };
    let access_token = match fields.remove("access_token") {
        Some(Value::String(token)) if !token.is_empty() => SecretString::from(token),
        Some(Value::String(_)) => return Err(bad("access_token is empty")),
        Some(_) => return Err(bad("access_token is not a string")),
        None => return Err(bad("access_token is missing")),
    };
    match fields.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(Value::String(kind)) => {
            let kind: String = secrets.scrub(kind).chars().take(40).collect();
            return Err(bad(format!("token_type is {kind:?}, not Bearer")));
        }
        Some(_) => return Err(bad("token_type is not a string")),
    }
    let expires_in = parse_expires_in(&fields)?;
    let refresh_token = match fields.remove("refresh_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) if token.is_empty() => None,
        Some(Value::String(token)) => Some(SecretString::from(token)),
        Some(_) => return Err(bad("refresh_token is not a string")),
    };
    Ok(TokenResponse {
        access_token,
        expires_in,
        refresh_token,
    })
}

fn parse_expires_in(fields: &Map<String, Value>) -> Result<Option<u64>, AuthError> {
    let not_seconds = || bad("expires_in is not a whole number of seconds");
    match fields.get("expires_in") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number.as_u64().map(Some).ok_or_else(not_seconds),
        // Some servers send the number as a string.
        Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| not_seconds()),
        Some(_) => Err(not_seconds()),
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
    // Okta's own error shape, for the answers that do not follow RFC 6749.
    #[serde(rename = "errorCode")]
    okta_code: Option<String>,
    #[serde(rename = "errorSummary")]
    okta_summary: Option<String>,
}

/// The OAuth2 error of an answer, when it has one: the code and a shortened,
/// single-line description.
pub(crate) fn parse_error(
    body: &[u8],
    secrets: &Secrets,
) -> Option<(OAuthErrorCode, Option<String>)> {
    let body: ErrorBody = serde_json::from_slice(body).ok()?;
    let code = secrets.scrub(&body.error.or(body.okta_code)?);
    let description = body
        .error_description
        .or(body.okta_summary)
        .map(|text| single_line(&secrets.scrub(&text)))
        .filter(|text| !text.is_empty());
    Some((OAuthErrorCode::from(code.as_str()), description))
}

fn single_line(text: &str) -> String {
    let mut line: String = text
        .chars()
        .take(MAX_DESCRIPTION)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > MAX_DESCRIPTION {
        line.push('…');
    }
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn reads_a_token_answer() {
        let token = parse_token(
            br#"{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","scope":"openid"}"#,
            &Secrets::default(),
        )
        .unwrap();
        assert_eq!(token.access_token.expose_secret(), "at");
        assert_eq!(token.expires_in, Some(3600));
        assert_eq!(token.refresh_token.unwrap().expose_secret(), "rt");

        let token = parse_token(
            br#"{"access_token":"at","expires_in":"60"}"#,
            &Secrets::default(),
        )
        .unwrap();
        assert_eq!(token.expires_in, Some(60));
        assert!(token.refresh_token.is_none());
    }

    #[test]
    fn bad_answers_name_the_field_never_the_content() {
        let cases: [(&[u8], &str); 6] = [
            (b"<html>secret-page</html>", "not JSON"),
            (b"[\"secret-item\"]", "not a JSON object"),
            (
                br#"{"refresh_token":"secret-rt"}"#,
                "access_token is missing",
            ),
            (
                br#"{"access_token":"secret-at","token_type":"MAC"}"#,
                "token_type",
            ),
            (
                br#"{"access_token":"secret-at","expires_in":-5}"#,
                "expires_in",
            ),
            (
                br#"{"access_token":"secret-at","refresh_token":7}"#,
                "refresh_token",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_token(body, &Secrets::default())
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }

    #[test]
    fn reads_oauth_and_okta_errors() {
        let (code, description) = parse_error(
            br#"{"error":"invalid_grant","error_description":"bad\npassword"}"#,
            &Secrets::default(),
        )
        .unwrap();
        assert_eq!(code, OAuthErrorCode::InvalidGrant);
        assert_eq!(description.as_deref(), Some("bad password"));
        let (code, description) = parse_error(
            br#"{"errorCode":"E0000047","errorSummary":"API rate limit"}"#,
            &Secrets::default(),
        )
        .unwrap();
        assert_eq!(code, OAuthErrorCode::Other("E0000047".into()));
        assert_eq!(description.as_deref(), Some("API rate limit"));
        assert!(parse_error(b"<html>", &Secrets::default()).is_none());
        let long = format!(
            r#"{{"error":"x","error_description":"{}"}}"#,
            "a".repeat(1000)
        );
        let (_, description) = parse_error(long.as_bytes(), &Secrets::default()).unwrap();
        assert!(description.unwrap().chars().count() <= MAX_DESCRIPTION + 1);
    }

    #[test]
    fn an_echoed_secret_is_removed_before_the_text_is_shortened() {
        let mut secrets = Secrets::default();
        let password = "hunter2-".repeat(10);
        secrets.add(&password);
        // The secret straddles the cut at 300 characters: no part of it is
        // left.
        let body = serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("{}{password}", "x".repeat(MAX_DESCRIPTION - 20)),
        })
        .to_string();
        let (_, description) = parse_error(body.as_bytes(), &secrets).unwrap();
        let description = description.unwrap();
        assert!(!description.contains("hunter2"), "{description}");
        assert!(description.ends_with("[REDACTED]"), "{description}");
        let body = format!(r#"{{"access_token":"at","token_type":"{password}"}}"#);
        let err = parse_token(body.as_bytes(), &secrets).err().unwrap();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
