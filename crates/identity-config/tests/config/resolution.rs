//! Configuration: precedence key by key (explicit, environment, file), the
//! choice of credentials, and every error, with the environment given as a
//! map (the process environment is never touched).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use identity_config::{
    ConfigError, Credentials, ExposeSecret, IdentityConfig, IdentityConfigBuilder, Setting,
    ValueSource, defaults,
};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn secrets_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("secrets.json");
    std::fs::write(&path, text).unwrap();
    path
}

fn load(
    explicit: IdentityConfigBuilder,
    vars: &[(&str, &str)],
    file: Option<&Path>,
) -> Result<IdentityConfig, ConfigError> {
    IdentityConfig::from_sources(explicit, env(vars), file)
}

const FULL_FILE: &str = r#"{
  "api": {
    "identityUrl": "https://file.lusid.com/identity",
    "tokenUrl": "https://acme.okta.com/oauth2/abc",
    "username": "file-user",
    "password": "file-password",
    "clientId": "file-client",
    "clientSecret": "file-client-secret",
    "applicationName": "file-app",
    "clientCertificate": "/file/ca.pem",
    "totalTimeoutMs": 1000,
    "connectTimeoutMs": "2000",
    "readTimeoutMs": 3000,
    "rateLimitRetries": 4,
    "lusidUrl": "https://file.lusid.com/api"
  },
  "proxy": {"address": "http://proxy.file:3128", "username": "file-proxy-user", "password": "file-proxy-pw"}
}"#;

#[test]
fn explicit_wins_over_environment_which_wins_over_the_file_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(&dir, FULL_FILE);
    let explicit = IdentityConfig::builder()
        .total_timeout(Duration::from_millis(10))
        .username("explicit-user");
    let vars = [
        ("FBN_TOTAL_TIMEOUT_MS", "20"),
        ("FBN_CONNECT_TIMEOUT_MS", "30"),
        ("FBN_USERNAME", "env-user"),
        ("FBN_IDENTITY_URL", "https://env.lusid.com/identity"),
        ("FBN_CORRELATION_ID", "env-correlation"),
        ("FBN_APP_NAME", ""), // empty: not set
    ];
    let config = load(explicit, &vars, Some(&file)).unwrap();

    assert_eq!(config.total_timeout(), Duration::from_millis(10)); // explicit
    assert_eq!(config.connect_timeout(), Duration::from_millis(30)); // env
    assert_eq!(config.read_timeout(), Duration::from_millis(3000)); // file
    assert_eq!(config.identity_url(), "https://env.lusid.com/identity");
    assert_eq!(config.application_name(), Some("file-app"));
    assert_eq!(config.correlation_id(), Some("env-correlation"));
    assert_eq!(config.rate_limit_retries(), Some(4));
    assert_eq!(config.client_certificate(), Some(Path::new("/file/ca.pem")));
    let proxy = config.proxy().unwrap();
    assert_eq!(proxy.address(), "http://proxy.file:3128");
    assert_eq!(proxy.username(), Some("file-proxy-user"));
    assert_eq!(proxy.password().unwrap().expose_secret(), "file-proxy-pw");
    let Credentials::PasswordGrant(grant) = config.credentials() else {
        panic!("expected the password grant: {:?}", config.credentials());
    };
    assert_eq!(grant.username(), "explicit-user"); // explicit over env over file
    assert_eq!(grant.client_id(), "file-client");
    // The Okta issuer URL got its token path.
    assert_eq!(
        grant.token_url().to_string(),
        "https://acme.okta.com/oauth2/abc/v1/token"
    );
}

#[test]
fn the_older_identity_url_variable_still_works() {
    let config = load(
        IdentityConfig::builder().access_token("t"),
        &[(
            "FBN_FINBOURNE_IDENTITY_API_URL",
            "https://old.lusid.com/identity",
        )],
        None,
    )
    .unwrap();
    assert_eq!(config.identity_url(), "https://old.lusid.com/identity");
}

#[test]
fn a_personal_access_token_wins_over_the_password_grant() {
    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(&dir, FULL_FILE);
    let config = load(
        IdentityConfig::builder(),
        &[("FBN_ACCESS_TOKEN", "env-pat")],
        Some(&file),
    )
    .unwrap();
    match config.credentials() {
        Credentials::AccessToken(token) => assert_eq!(token.expose_secret(), "env-pat"),
        other => panic!("expected the access token: {other:?}"),
    }
}

#[test]
fn a_token_file_comes_after_the_access_token_and_before_the_password_grant() {
    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(&dir, FULL_FILE);
    let config = load(
        IdentityConfig::builder(),
        &[("FBN_ACCESS_TOKEN_FILE", "/run/secrets/token")],
        Some(&file),
    )
    .unwrap();
    match config.credentials() {
        Credentials::AccessTokenFile(path) => assert_eq!(path, Path::new("/run/secrets/token")),
        other => panic!("expected the token file: {other:?}"),
    }
    let config = load(
        IdentityConfig::builder().access_token("pat"),
        &[("FBN_ACCESS_TOKEN_FILE", "/run/secrets/token")],
        Some(&file),
    )
    .unwrap();
    assert!(matches!(config.credentials(), Credentials::AccessToken(_)));
}

#[test]
fn missing_credentials_say_what_to_set_and_what_the_password_grant_lacks() {
    let vars = [
        ("FBN_IDENTITY_URL", "https://x.lusid.com/identity"),
        ("FBN_TOKEN_URL", "https://x.okta.com/oauth2/abc/v1/token"),
        ("FBN_USERNAME", "user"),
        ("FBN_CLIENT_ID", "client"),
    ];
    let error = load(IdentityConfig::builder(), &vars, None).unwrap_err();
    match &error {
        ConfigError::NoCredentials { missing } => {
            assert_eq!(missing, &[Setting::Password, Setting::ClientSecret]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = error.to_string();
    for expected in [
        "FBN_ACCESS_TOKEN",
        "api.accessToken",
        "FBN_ACCESS_TOKEN_FILE",
        "FBN_TOKEN_URL",
        "api.clientSecret",
        "missing FBN_PASSWORD (secrets.json api.password), FBN_CLIENT_SECRET (secrets.json api.clientSecret)",
    ] {
        assert!(message.contains(expected), "{expected} not in: {message}");
    }

    // Nothing at all: the ways to authenticate, no list of what is missing.
    let error = load(
        IdentityConfig::builder(),
        &[("FBN_IDENTITY_URL", "https://x.lusid.com/identity")],
        None,
    )
    .unwrap_err();
    assert!(matches!(&error, ConfigError::NoCredentials { missing } if missing.len() == 5));
    assert!(!error.to_string().contains("missing"), "{error}");
}

#[test]
fn a_missing_identity_url_is_an_error_naming_its_variables_and_key() {
    let error = load(IdentityConfig::builder().access_token("t"), &[], None).unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Missing {
            setting: Setting::IdentityUrl
        }
    ));
    let message = error.to_string();
    for expected in [
        "FBN_IDENTITY_URL",
        "FBN_FINBOURNE_IDENTITY_API_URL",
        "api.identityUrl",
    ] {
        assert!(message.contains(expected), "{expected} not in: {message}");
    }
}

#[test]
fn a_bad_number_names_its_variable_or_key_and_the_value() {
    let base = IdentityConfig::builder()
        .identity_url("https://x.lusid.com/identity")
        .access_token("t");
    let error = load(base.clone(), &[("FBN_READ_TIMEOUT_MS", "30s")], None).unwrap_err();
    match &error {
        ConfigError::InvalidValue {
            setting,
            origin,
            value,
            ..
        } => {
            assert_eq!(*setting, Setting::ReadTimeoutMs);
            assert_eq!(
                *origin,
                ValueSource::Environment {
                    variable: "FBN_READ_TIMEOUT_MS"
                }
            );
            assert_eq!(value.as_deref(), Some("30s"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("FBN_READ_TIMEOUT_MS"), "{message}");
    assert!(message.contains("\"30s\""), "{message}");
    assert!(message.contains("milliseconds"), "{message}");

    let error = load(
        base.clone(),
        &[("FBN_RATE_LIMIT_RETRIES", "5000000000")],
        None,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("FBN_RATE_LIMIT_RETRIES"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(&dir, r#"{"api": {"totalTimeoutMs": -5}}"#);
    let error = load(base.clone(), &[], Some(&file)).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("api.totalTimeoutMs"), "{message}");
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(message.contains("\"-5\""), "{message}");

    let file = secrets_file(&dir, r#"{"api": {"totalTimeoutMs": 1.5}}"#);
    assert!(load(base, &[], Some(&file)).is_err());
}

#[test]
fn a_malformed_secrets_file_names_the_file_and_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = secrets_file(
        &dir,
        "{\n  \"api\": {\n    \"password\": \"hunter2-secret\",\n    \"clientId\" \"x\"\n  }\n}",
    );
    let error = load(IdentityConfig::builder(), &[], Some(&file)).unwrap_err();
    match &error {
        ConfigError::SecretsFileMalformed {
            path, line, column, ..
        } => {
            assert_eq!(path, &file);
            assert_eq!(*line, 4);
            assert!(*column > 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(message.contains("line 4"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");

    let file = secrets_file(&dir, r#"{"api": ["not", "an", "object"]}"#);
    let error = load(IdentityConfig::builder(), &[], Some(&file)).unwrap_err();
    assert!(
        matches!(error, ConfigError::SecretsFileMalformed { line: 1, .. }),
        "{error:?}"
    );

    let file = secrets_file(&dir, r#"{"api": {"password": 1234}}"#);
    let error = load(IdentityConfig::builder(), &[], Some(&file)).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::SecretsFileWrongType {
                key: "api.password",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_secrets_file_that_was_asked_for_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let error = load(IdentityConfig::builder(), &[], Some(&missing)).unwrap_err();
    assert!(matches!(&error, ConfigError::SecretsFileNotFound { path } if path == &missing));
    assert!(error.to_string().contains("nope.json"), "{error}");
}

#[test]
fn plain_http_is_refused_for_remote_hosts_unless_allowed() {
    let error = load(
        IdentityConfig::builder().access_token("t"),
        &[("FBN_IDENTITY_URL", "http://example.com/identity")],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            &error,
            ConfigError::InsecureUrl {
                setting: Setting::IdentityUrl,
                origin: ValueSource::Environment {
                    variable: "FBN_IDENTITY_URL"
                },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("allow_insecure_http"), "{error}");
    assert!(
        error.to_string().contains("FBN_ALLOW_INSECURE_HTTP=true"),
        "{error}"
    );
    assert!(
        error.to_string().contains("--allow-insecure-http"),
        "{error}"
    );

    let allowed = load(
        IdentityConfig::builder()
            .access_token("t")
            .allow_insecure_http(true),
        &[("FBN_IDENTITY_URL", "http://example.com/identity")],
        None,
    )
    .unwrap();
    assert!(allowed.allow_insecure_http());

    // Loopback is fine: the emulator on this machine.
    load(
        IdentityConfig::builder()
            .access_token("t")
            .identity_url("http://127.0.0.1:8080/identity"),
        &[],
        None,
    )
    .unwrap();

    // The token URL too, where passwords go.
    let grant = IdentityConfig::builder()
        .identity_url("https://x.lusid.com/identity")
        .token_url("http://login.example.com/oauth2/token")
        .username("u")
        .password("p")
        .client_id("c")
        .client_secret("s");
    let error = load(grant.clone(), &[], None).unwrap_err();
    assert!(
        matches!(
            &error,
            ConfigError::InsecureUrl {
                setting: Setting::TokenUrl,
                origin: ValueSource::Builder,
                ..
            }
        ),
        "{error:?}"
    );
    load(grant.allow_insecure_http(true), &[], None).unwrap();
}

#[test]
fn plain_http_is_allowed_by_the_environment_and_refused_again_by_the_builder() {
    let remote = [("FBN_IDENTITY_URL", "http://identity-emulator:8080/identity")];
    for on in ["true", "1", "YES", "on"] {
        let vars = [remote[0], ("FBN_ALLOW_INSECURE_HTTP", on)];
        let config = load(IdentityConfig::builder().access_token("t"), &vars, None).unwrap();
        assert!(config.allow_insecure_http(), "{on}");
    }
    for off in ["false", "0", "No", "off", ""] {
        let vars = [remote[0], ("FBN_ALLOW_INSECURE_HTTP", off)];
        let error = load(IdentityConfig::builder().access_token("t"), &vars, None).unwrap_err();
        assert!(
            matches!(error, ConfigError::InsecureUrl { .. }),
            "{off}: {error:?}"
        );
    }
    // The builder wins over the environment, as for every setting.
    let vars = [remote[0], ("FBN_ALLOW_INSECURE_HTTP", "true")];
    let error = load(
        IdentityConfig::builder()
            .access_token("t")
            .allow_insecure_http(false),
        &vars,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(error, ConfigError::InsecureUrl { .. }),
        "{error:?}"
    );
    // Not a switch: named with its variable.
    let vars = [remote[0], ("FBN_ALLOW_INSECURE_HTTP", "maybe")];
    let error = load(IdentityConfig::builder().access_token("t"), &vars, None).unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::InvalidValue {
                setting: Setting::AllowInsecureHttp,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("FBN_ALLOW_INSECURE_HTTP"),
        "{error}"
    );
}

#[test]
fn proxy_credentials_need_a_proxy_address() {
    let error = load(
        IdentityConfig::builder()
            .identity_url("https://x.lusid.com/identity")
            .access_token("t"),
        &[("FBN_PROXY_PASSWORD", "proxy-pw")],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::ProxyWithoutAddress {
                setting: Setting::ProxyPassword
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_bad_proxy_address_is_an_error_naming_the_setting_wherever_it_comes_from() {
    let base = IdentityConfig::builder()
        .identity_url("https://x.lusid.com/identity")
        .access_token("t");
    let error = load(
        base.clone().proxy_address("http://user:pw-in-url@ bad"),
        &[],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            &error,
            ConfigError::InvalidValue {
                setting: Setting::ProxyAddress,
                origin: ValueSource::Builder,
                value: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("proxy address"), "{error}");
    assert!(!error.to_string().contains("pw-in-url"), "{error}");

    let error = load(base.clone(), &[("FBN_PROXY_ADDRESS", "http:// bad")], None).unwrap_err();
    assert!(
        matches!(
            &error,
            ConfigError::InvalidValue {
                setting: Setting::ProxyAddress,
                origin: ValueSource::Environment { .. },
                value: Some(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("FBN_PROXY_ADDRESS"), "{error}");

    // A good one is parsed once, here: the HTTP client gets the Uri.
    let config = load(
        base.proxy_address(" http://proxy.acme.com:3128 "),
        &[],
        None,
    )
    .unwrap();
    let address = config.proxy().unwrap().address();
    assert_eq!(address.host(), Some("proxy.acme.com"));
    assert_eq!(address.port_u16(), Some(3128));
}

#[test]
fn the_builder_alone_builds_without_environment_or_file() {
    let config = IdentityConfig::builder()
        .identity_url("https://x.lusid.com/identity")
        .token_url("https://login.example.com/oauth2/token")
        .username("u")
        .password("p")
        .client_id("c")
        .client_secret("s")
        .rate_limit_retries(0)
        .build()
        .unwrap();
    assert!(matches!(
        config.credentials(),
        Credentials::PasswordGrant(_)
    ));
    assert_eq!(config.rate_limit_retries(), Some(0));
    // A non-Okta token URL is used as given.
    let Credentials::PasswordGrant(grant) = config.credentials() else {
        unreachable!()
    };
    assert_eq!(
        grant.token_url().to_string(),
        "https://login.example.com/oauth2/token"
    );
}

/// Every source of a setting: the builder, the environment and a file.
enum Source {
    Builder,
    Env(&'static str),
    File(&'static str),
}

/// The error of `base` completed by `value` from `source`.
fn refused(
    base: &IdentityConfigBuilder,
    source: Source,
    value: &str,
    with_builder: impl FnOnce(IdentityConfigBuilder) -> IdentityConfigBuilder,
) -> ConfigError {
    let dir = tempfile::tempdir().unwrap();
    let result = match source {
        Source::Builder => load(with_builder(base.clone()), &[], None),
        Source::Env(variable) => load(base.clone(), &[(variable, value)], None),
        Source::File(key) => {
            let file = secrets_file(&dir, &format!(r#"{{"api": {{"{key}": {value}}}}}"#));
            load(base.clone(), &[], Some(&file))
        }
    };
    result.expect_err("a value that makes no sense is refused")
}

#[test]
fn timeouts_of_zero_or_past_the_maximum_are_refused_from_every_source() {
    let base = IdentityConfig::builder()
        .identity_url("https://x.lusid.com/identity")
        .access_token("t");
    type Setter = fn(IdentityConfigBuilder, Duration) -> IdentityConfigBuilder;
    let settings: [(Setting, &str, &str, &str, Setter); 3] = [
        (
            Setting::TotalTimeoutMs,
            "FBN_TOTAL_TIMEOUT_MS",
            "totalTimeoutMs",
            "total_timeout",
            IdentityConfigBuilder::total_timeout,
        ),
        (
            Setting::ConnectTimeoutMs,
            "FBN_CONNECT_TIMEOUT_MS",
            "connectTimeoutMs",
            "connect_timeout",
            IdentityConfigBuilder::connect_timeout,
        ),
        (
            Setting::ReadTimeoutMs,
            "FBN_READ_TIMEOUT_MS",
            "readTimeoutMs",
            "read_timeout",
            IdentityConfigBuilder::read_timeout,
        ),
    ];
    let too_long = identity_config::MAX_TIMEOUT + Duration::from_millis(1);
    for (setting, variable, key, setter, set) in settings {
        for (raw, duration) in [
            ("0", Duration::ZERO),
            ("86400001", too_long),
            // Fits a u64 of milliseconds, but no deadline of it fits a clock.
            ("18446744073709551615", Duration::MAX),
        ] {
            let cases = [
                (Source::Builder, setter),
                (Source::Env(variable), variable),
                (Source::File(key), key),
            ];
            for (source, named) in cases {
                let error = refused(&base, source, raw, |builder| set(builder, duration));
                assert!(
                    matches!(&error, ConfigError::InvalidValue { setting: s, .. } if *s == setting),
                    "{setting:?} {raw}: {error:?}"
                );
                let message = error.to_string();
                assert!(message.contains(named), "{named} not in: {message}");
                assert!(
                    message.contains("86400000"),
                    "the range is not in: {message}"
                );
            }
        }
        // Past what a u64 holds: still an error naming the setting.
        let error = refused(&base, Source::Env(variable), "99999999999999999999", |b| b);
        assert!(error.to_string().contains(variable), "{error}");
        let error = refused(&base, Source::File(key), "1e30", |b| b);
        assert!(error.to_string().contains(key), "{error}");
    }

    // The bounds themselves are fine.
    let config = load(
        base.clone().read_timeout(identity_config::MAX_TIMEOUT),
        &[
            ("FBN_TOTAL_TIMEOUT_MS", "86400000"),
            ("FBN_CONNECT_TIMEOUT_MS", "1"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(config.total_timeout(), identity_config::MAX_TIMEOUT);
    assert_eq!(config.connect_timeout(), Duration::from_millis(1));
    // Less than a millisecond in code is no timeout either.
    let error = load(base.total_timeout(Duration::from_micros(500)), &[], None).unwrap_err();
    assert!(error.to_string().contains("total_timeout"), "{error}");
}

#[test]
fn rate_limit_retries_past_the_maximum_are_refused_from_every_source() {
    let base = IdentityConfig::builder()
        .identity_url("https://x.lusid.com/identity")
        .access_token("t");
    for (source, named) in [
        (Source::Builder, "rate_limit_retries"),
        (
            Source::Env("FBN_RATE_LIMIT_RETRIES"),
            "FBN_RATE_LIMIT_RETRIES",
        ),
        (Source::File("rateLimitRetries"), "api.rateLimitRetries"),
    ] {
        let error = refused(&base, source, "101", |builder| {
            builder.rate_limit_retries(101)
        });
        assert!(
            matches!(
                &error,
                ConfigError::InvalidValue {
                    setting: Setting::RateLimitRetries,
                    ..
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(named), "{named} not in: {message}");
        assert!(message.contains("0 to 100"), "{message}");
    }
    let error = load(base.clone().rate_limit_retries(u32::MAX), &[], None).unwrap_err();
    assert!(error.to_string().contains("rate_limit_retries"), "{error}");
    let config = load(base, &[("FBN_RATE_LIMIT_RETRIES", "100")], None).unwrap();
    assert_eq!(
        config.rate_limit_retries(),
        Some(identity_config::MAX_RETRIES)
    );
}

#[test]
fn the_getters_answer_the_value_in_force_defaults_included() {
    let explicit = IdentityConfigBuilder::new()
        .identity_url("https://acme.lusid.com/identity")
        .access_token("t");
    let config = load(explicit, &[], None).unwrap();
    assert_eq!(config.total_timeout(), defaults::TOTAL_TIMEOUT);
    assert_eq!(config.connect_timeout(), defaults::CONNECT_TIMEOUT);
    assert_eq!(config.read_timeout(), defaults::READ_TIMEOUT);
    assert_eq!(config.transient_retries(), defaults::TRANSIENT_RETRIES);
    assert_eq!(config.max_response_bytes(), defaults::MAX_RESPONSE_BYTES);
    // No default: a throttled call is waited out unless a cap is set.
    assert_eq!(config.rate_limit_retries(), None);

    let vars = [
        ("FBN_TRANSIENT_RETRIES", "7"),
        ("FBN_MAX_RESPONSE_BYTES", "1024"),
    ];
    let explicit = IdentityConfigBuilder::new()
        .identity_url("https://acme.lusid.com/identity")
        .access_token("t");
    let config = load(explicit, &vars, None).unwrap();
    assert_eq!(config.transient_retries(), 7);
    assert_eq!(config.max_response_bytes(), 1024);
}

#[test]
fn the_new_settings_are_checked_like_the_others() {
    for (var, value) in [
        ("FBN_TRANSIENT_RETRIES", "101"),
        ("FBN_MAX_RESPONSE_BYTES", "0"),
        ("FBN_MAX_RESPONSE_BYTES", "lots"),
    ] {
        let explicit = IdentityConfigBuilder::new()
            .identity_url("https://acme.lusid.com/identity")
            .access_token("t");
        let error = load(explicit, &[(var, value)], None).unwrap_err();
        assert!(error.to_string().contains(var), "{var}={value}: {error}");
    }
}
