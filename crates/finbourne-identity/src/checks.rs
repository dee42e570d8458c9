//! The facade builder's own settings (those with no environment variable or
//! `secrets.json` key) checked to make sense before a client is built, as
//! `identity-config` checks the settings of its table.
//!
//! - `transient_retries` at most [`MAX_RETRIES`], the bound of the rate-limit
//!   retries and for the same reasons (see its docs);
//! - `max_response_bytes` not 0: no answer, not even an error's, would fit.

use identity_config::{ConfigError, MAX_RETRIES};

use crate::stack::StackSettings;

/// The first of `settings` that makes no sense, as a [`ConfigError`]
/// naming the builder's setter.
pub(crate) fn check(settings: &StackSettings) -> Result<(), ConfigError> {
    if let Some(retries) = settings.transient_retries.filter(|&n| n > MAX_RETRIES) {
        return Err(ConfigError::InvalidBuilderValue {
            setter: "transient_retries",
            value: retries.to_string(),
            reason: format!("too many retries: it must be 0 to {MAX_RETRIES}"),
        });
    }
    if settings.max_response_bytes == Some(0) {
        return Err(ConfigError::InvalidBuilderValue {
            setter: "max_response_bytes",
            value: "0".to_owned(),
            reason: "no answer would fit: it must be at least 1 byte".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        transient_retries: Option<u32>,
        max_response_bytes: Option<usize>,
    ) -> StackSettings {
        StackSettings {
            transient_retries,
            max_response_bytes,
            ..StackSettings::default()
        }
    }

    #[test]
    fn sane_settings_pass_and_others_name_their_setter() {
        for fine in [
            settings(None, None),
            settings(Some(0), Some(1)),
            settings(Some(MAX_RETRIES), Some(usize::MAX)),
        ] {
            assert!(check(&fine).is_ok(), "{fine:?}");
        }
        let error = check(&settings(Some(MAX_RETRIES + 1), None)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("transient_retries"), "{message}");
        assert!(
            message.contains("101") && message.contains("0 to 100"),
            "{message}"
        );
        let error = check(&settings(Some(u32::MAX), None)).unwrap_err();
        assert!(error.to_string().contains("transient_retries"), "{error}");
        let error = check(&settings(None, Some(0))).unwrap_err();
        assert!(error.to_string().contains("max_response_bytes"), "{error}");
    }

    #[test]
    fn the_builder_refuses_what_makes_no_sense_from_either_crate() {
        use std::time::Duration;

        use crate::{ErrorKind, IdentityClient};

        let base = || {
            IdentityClient::builder()
                .environment(false)
                .base_url("https://acme.lusid.com/identity")
                .access_token("t")
        };
        let refused = [
            (base().transient_retries(1_000), "transient_retries"),
            (base().max_response_bytes(0), "max_response_bytes"),
            (base().rate_limit_retries(1_000), "rate_limit_retries"),
            (base().total_timeout(Duration::ZERO), "total_timeout"),
            (base().connect_timeout(Duration::ZERO), "connect_timeout"),
            (base().read_timeout(Duration::MAX), "read_timeout"),
        ];
        for (builder, setter) in refused {
            let error = builder.build().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Config, "{error}");
            assert!(error.to_string().contains(setter), "{setter}: {error}");
        }
        base()
            .transient_retries(MAX_RETRIES)
            .rate_limit_retries(MAX_RETRIES)
            .max_response_bytes(1)
            .total_timeout(identity_config::MAX_TIMEOUT)
            .build()
            .unwrap();
    }
}
