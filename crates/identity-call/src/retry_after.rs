//! Reading `Retry-After`: how long a throttled call should wait.
//!
//! The header holds seconds (`2`), fractional seconds as FINBOURNE's
//! services send them (`0.5`), or an HTTP date (`Wed, 21 Oct 2015 07:28:00
//! GMT`). Anything else (negative, garbage, `1e3`, `inf`) is ignored, as if
//! there were no header. A value too large to represent is
//! `Duration::MAX`. The one parser of the SDK: the retry layer waits by it,
//! and the errors of `identity-users` report it.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::RETRY_AFTER;

/// The wait a `Retry-After` header asks for, if it holds a valid one; a
/// date in the past asks for no wait.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("0.5"));
/// assert_eq!(identity_call::retry_after(&headers, SystemTime::now()), Some(Duration::from_millis(500)));
/// ```
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    seconds(value).or_else(|| {
        let date = httpdate::parse_http_date(value).ok()?;
        Some(date.duration_since(now).unwrap_or(Duration::ZERO))
    })
}

/// A wait, in seconds, as messages say it: to the millisecond below ten
/// seconds (`0.047 s`, `1.5 s`), whole seconds above (`3600 s`), so that a
/// wait of a few milliseconds never reads as `0.0 s`.
///
/// ```
/// use std::time::Duration;
/// use identity_call::Seconds;
///
/// assert_eq!(Seconds(Duration::from_millis(47)).to_string(), "0.047 s");
/// assert_eq!(Seconds(Duration::from_millis(1500)).to_string(), "1.5 s");
/// assert_eq!(Seconds(Duration::from_secs(3600)).to_string(), "3600 s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.0.as_secs_f64();
        if seconds >= 10.0 {
            write!(f, "{seconds:.0} s")
        } else {
            let text = format!("{seconds:.3}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            write!(f, "{text} s")
        }
    }
}

/// `digits` or `digits.digits`, as a duration.
fn seconds(value: &str) -> Option<Duration> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let seconds: f64 = value.parse().ok()?;
    Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        retry_after(&headers, SystemTime::now())
    }

    #[test]
    fn integer_and_fractional_seconds() {
        assert_eq!(parse("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse("1.5"), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn an_http_date_in_the_future_is_the_time_until_it() {
        let now = SystemTime::now();
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, date.parse().unwrap());
        let wait = retry_after(&headers, now).unwrap();
        // The date has whole seconds: up to one second is lost.
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
    }

    #[test]
    fn an_http_date_in_the_past_is_no_wait() {
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
    }

    #[test]
    fn negative_and_garbage_values_are_ignored() {
        for value in [
            "-1", "-0.5", "soon", "1e3", "inf", "NaN", "1.", ".5", "1.2.3", "0x10", "",
        ] {
            assert_eq!(parse(value), None, "{value:?}");
        }
        assert_eq!(retry_after(&HeaderMap::new(), SystemTime::now()), None);
    }

    #[test]
    fn enormous_values_saturate() {
        assert_eq!(parse("99999999999999999999999999"), Some(Duration::MAX));
        assert_eq!(parse("18446744073709551616"), Some(Duration::MAX));
        assert!(parse("31536000").unwrap() >= Duration::from_secs(31_536_000));
    }
}
