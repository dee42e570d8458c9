//! The bounds of the numeric settings: values that make no sense are refused
//! where they are resolved, whatever their source (builder, environment or
//! `secrets.json`), with an error naming the setting.
//!
//! - A timeout of 0 would end every call, connection or attempt at once: the
//!   smallest timeout is [`MIN_TIMEOUT`], the unit of the settings.
//! - A timeout past [`MAX_TIMEOUT`] is refused rather than silently meaning
//!   "no timeout": a deadline too far away to represent (`Instant + Duration`
//!   overflows, at a point that depends on the platform's clock) leaves the
//!   timeout layers with no deadline at all. The bound is far below any such
//!   point on any platform, and far above any call of the Identity API.
//! - A retry count past [`MAX_RETRIES`] is refused: see its docs.
//! - A size of 0 bytes is refused: no answer would fit.

use std::time::Duration;

use crate::{ConfigError, Setting, ValueSource};

/// The shortest timeout: 1 ms, the unit of the `*_TIMEOUT_MS` settings.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// The longest timeout: 24 hours.
///
/// The default total timeout is 30 minutes; no single call of the Identity
/// API needs a day. Past this bound a typo (or `Duration::MAX`, meant as
/// "never") is refused instead of becoming a deadline that cannot be
/// represented, which the timeout layers would treat as no deadline at all.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The most retries of one kind a call may make: 100.
///
/// Each retry is a request to a service that already refused or failed one
/// (a 429 says it is overloaded): 100 retries of one call, each after the
/// backoff or the service's `Retry-After`, is far past any recovery that
/// retrying brings, and already a retry storm from many clients. A larger
/// count is a typo, or `u32::MAX` meant as "retry forever", which the SDK
/// does not do: the total timeout bounds a call, not the count. The same
/// bound holds for the facade's transient retries.
pub const MAX_RETRIES: u32 = 100;

/// A timeout within [`MIN_TIMEOUT`]..=[`MAX_TIMEOUT`], or the error naming
/// the setting.
pub(crate) fn check_timeout(
    setting: Setting,
    origin: &ValueSource,
    timeout: Duration,
) -> Result<(), ConfigError> {
    let reason = if timeout < MIN_TIMEOUT {
        "a timeout of 0 would end every call at once"
    } else if timeout > MAX_TIMEOUT {
        "a timeout this long is no timeout"
    } else {
        return Ok(());
    };
    Err(ConfigError::InvalidValue {
        setting,
        origin: origin.clone(),
        value: Some(match origin {
            ValueSource::Builder => format!("{timeout:?}"),
            _ => timeout.as_millis().to_string(),
        }),
        reason: format!("{reason}: it must be {}", timeout_range()),
    })
}

/// A retry count within 0..=[`MAX_RETRIES`], or the error naming the setting.
pub(crate) fn check_retries(
    setting: Setting,
    origin: &ValueSource,
    retries: u32,
) -> Result<(), ConfigError> {
    if retries <= MAX_RETRIES {
        return Ok(());
    }
    Err(ConfigError::InvalidValue {
        setting,
        origin: origin.clone(),
        value: Some(retries.to_string()),
        reason: format!("too many retries: it must be {}", retries_range()),
    })
}

/// A size of at least one byte (no answer, not even an error's, fits in
/// none), or the error naming the setting.
pub(crate) fn check_bytes(
    setting: Setting,
    origin: &ValueSource,
    bytes: u64,
) -> Result<(), ConfigError> {
    if bytes >= 1 {
        return Ok(());
    }
    Err(ConfigError::InvalidValue {
        setting,
        origin: origin.clone(),
        value: Some(bytes.to_string()),
        reason: "no answer would fit: it must be at least 1 byte".to_owned(),
    })
}

/// The range of timeouts, in words.
pub(crate) fn timeout_range() -> String {
    format!(
        "{} to {} milliseconds (24 hours)",
        MIN_TIMEOUT.as_millis(),
        MAX_TIMEOUT.as_millis()
    )
}

/// The range of retry counts, in words.
pub(crate) fn retries_range() -> String {
    format!("0 to {MAX_RETRIES}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_accepted_and_what_lies_past_them_refused() {
        let builder = ValueSource::Builder;
        let setting = Setting::TotalTimeoutMs;
        assert!(check_timeout(setting, &builder, MIN_TIMEOUT).is_ok());
        assert!(check_timeout(setting, &builder, MAX_TIMEOUT).is_ok());
        for bad in [
            Duration::ZERO,
            Duration::from_micros(999),
            MAX_TIMEOUT + Duration::from_nanos(1),
            Duration::MAX,
        ] {
            let error = check_timeout(setting, &builder, bad).unwrap_err();
            assert!(
                matches!(
                    error,
                    ConfigError::InvalidValue {
                        setting: Setting::TotalTimeoutMs,
                        ..
                    }
                ),
                "{bad:?}: {error:?}"
            );
        }
        assert!(check_retries(Setting::RateLimitRetries, &builder, 0).is_ok());
        assert!(check_retries(Setting::RateLimitRetries, &builder, MAX_RETRIES).is_ok());
        assert!(check_retries(Setting::RateLimitRetries, &builder, MAX_RETRIES + 1).is_err());
        assert!(check_retries(Setting::RateLimitRetries, &builder, u32::MAX).is_err());
    }
}
