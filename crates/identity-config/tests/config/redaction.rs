//! No secret in any `Debug` or `Display` of a configuration value or error:
//! every secret is a distinctive string searched for in the output. (Tokens
//! and their errors are checked in identity-auth's tests.)

use std::collections::HashMap;
use std::fmt::{Debug, Display};

use identity_config::{
    ConfigError, Credentials, IdentityConfig, PasswordGrantCredentials, SecretString,
};

const SECRETS: [&str; 7] = [
    "pw-Q7xSECRET",
    "cs-Z9kSECRET",
    "pat-M2vSECRET",
    "pxpw-L4jSECRET",
    "at-R8nSECRET",
    "rt-W3cSECRET",
    "urlpw-T6hSECRET",
];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

fn debug(what: &str, value: &impl Debug) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

fn both(what: &str, value: &(impl Debug + Display)) {
    debug(what, value);
    assert_clean(what, &value.to_string());
}

fn environment() -> HashMap<&'static str, String> {
    HashMap::from([
        (
            "FBN_IDENTITY_URL",
            "https://x.lusid.com/identity".to_owned(),
        ),
        (
            "FBN_TOKEN_URL",
            "https://acme.okta.com/oauth2/abc".to_owned(),
        ),
        ("FBN_USERNAME", "robot".to_owned()),
        ("FBN_PASSWORD", SECRETS[0].to_owned()),
        ("FBN_CLIENT_ID", "client".to_owned()),
        ("FBN_CLIENT_SECRET", SECRETS[1].to_owned()),
        (
            "FBN_PROXY_ADDRESS",
            format!("http://proxyuser:{}@proxy:3128", SECRETS[6]),
        ),
        ("FBN_PROXY_USERNAME", "proxyuser".to_owned()),
        ("FBN_PROXY_PASSWORD", SECRETS[3].to_owned()),
    ])
}

fn config(extra: &[(&'static str, &str)]) -> Result<IdentityConfig, ConfigError> {
    let mut vars = environment();
    for (name, value) in extra {
        vars.insert(name, (*value).to_owned());
    }
    IdentityConfig::from_sources(
        IdentityConfig::builder(),
        move |name| vars.get(name).cloned(),
        None,
    )
}

#[test]
fn configuration_values_never_show_a_secret() {
    let builder = IdentityConfig::builder()
        .password(SECRETS[0])
        .client_secret(SECRETS[1])
        .access_token(SECRETS[2])
        .proxy_password(SECRETS[3])
        .proxy_address(format!("http://u:{}@proxy:3128", SECRETS[6]))
        .identity_url(format!("https://u:{}@x.lusid.com", SECRETS[6]));
    debug("IdentityConfigBuilder", &builder);

    let config = config(&[]).unwrap();
    debug("IdentityConfig", &config);
    debug("Credentials::PasswordGrant", config.credentials());
    debug("ProxySettings", &config.proxy().unwrap());
    assert!(format!("{config:?}").contains("[REDACTED]"));

    let config = config_with_token();
    debug("Credentials::AccessToken", config.credentials());

    let credentials = PasswordGrantCredentials::new(
        "https://acme.okta.com/oauth2/abc",
        "robot",
        SecretString::from(SECRETS[0]),
        "client",
        SecretString::from(SECRETS[1]),
    )
    .unwrap();
    debug("PasswordGrantCredentials", &credentials);
    debug("Credentials", &Credentials::PasswordGrant(credentials));
}

fn config_with_token() -> IdentityConfig {
    config(&[("FBN_ACCESS_TOKEN", SECRETS[2])]).unwrap()
}

#[test]
fn configuration_errors_never_show_a_secret() {
    let errors = [
        config(&[("FBN_TOTAL_TIMEOUT_MS", "12x")]).unwrap_err(),
        config(&[("FBN_IDENTITY_URL", "http://remote.example.com")]).unwrap_err(),
        config(&[(
            "FBN_IDENTITY_URL",
            &format!("https://user:{}@x.lusid.com", SECRETS[6]),
        )])
        .unwrap_err(),
        config(&[("FBN_TOKEN_URL", &format!("ftp://user:{}@okta", SECRETS[6]))]).unwrap_err(),
        config(&[(
            "FBN_PROXY_ADDRESS",
            &format!("http://u:{}@ bad", SECRETS[6]),
        )])
        .unwrap_err(),
        config(&[("FBN_CLIENT_ID", "")]).unwrap_err(),
    ];
    for error in &errors {
        both("ConfigError", error);
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    std::fs::write(
        &path,
        format!("{{\"api\": {{\"password\": \"{}\",}}}}", SECRETS[0]),
    )
    .unwrap();
    let error =
        IdentityConfig::from_sources(IdentityConfig::builder(), |_| None, Some(&path)).unwrap_err();
    assert!(
        matches!(error, ConfigError::SecretsFileMalformed { .. }),
        "{error:?}"
    );
    both("ConfigError::SecretsFileMalformed", &error);

    std::fs::write(&path, format!("{{\"api\": \"{}\"}}", SECRETS[0])).unwrap();
    let error =
        IdentityConfig::from_sources(IdentityConfig::builder(), |_| None, Some(&path)).unwrap_err();
    both("ConfigError::SecretsFileMalformed (type)", &error);
}
