//! How datetimes travel: RFC 3339 with an offset, read and written by `time`.
//!
//! `time::serde::rfc3339::option` reads any offset (`Z`, `+00:00`, `+05:30`, ...)
//! and one to nine fractional digits (the .NET service sends seven), and writes
//! RFC 3339 back, offset kept. Digits beyond nanoseconds are truncated. The
//! fields using it also carry `#[serde(default)]` so that an absent field reads
//! as `None`, like a `null` one.
//!
//! RFC 3339 cannot write every `OffsetDateTime`: a year outside 0000-9999 or an
//! offset with a seconds part makes serialisation fail with a serde error (the
//! service never sends such values).

pub(crate) use time::serde::rfc3339::option as rfc3339_option;

#[cfg(test)]
mod tests {

    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use time::macros::{datetime, offset};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Stamp {
        #[serde(
            default,
            with = "super::rfc3339_option",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<OffsetDateTime>,
    }

    fn read(text: &str) -> Result<Option<OffsetDateTime>, serde_json::Error> {
        serde_json::from_str::<Stamp>(&format!(r#"{{"at":"{text}"}}"#)).map(|s| s.at)
    }

    #[test]
    fn reads_seven_fractional_digits_as_sent_by_the_service() {
        let at = read("2024-03-01T09:30:12.1234567+00:00").unwrap().unwrap();
        assert_eq!(at, datetime!(2024-03-01 09:30:12.1234567 UTC));
        assert_eq!(at.nanosecond(), 123_456_700);
    }

    #[test]
    fn reads_nine_fractional_digits_and_none() {
        let at = read("2024-03-01T09:30:12.123456789Z").unwrap().unwrap();
        assert_eq!(at.nanosecond(), 123_456_789);
        let whole = read("2024-03-01T09:30:12Z").unwrap().unwrap();
        assert_eq!(whole.nanosecond(), 0);
    }

    #[test]
    fn keeps_non_utc_offsets() {
        let at = read("2024-03-01T15:00:12.5+05:30").unwrap().unwrap();
        assert_eq!(at.offset(), offset!(+05:30));
        assert_eq!(at, datetime!(2024-03-01 09:30:12.5 UTC));
        let west = read("2024-03-01T01:30:12-08:00").unwrap().unwrap();
        assert_eq!(west.offset(), offset!(-08:00));
    }

    #[test]
    fn writes_rfc3339_with_the_offset_kept() {
        let stamp = Stamp {
            at: Some(datetime!(2024-03-01 15:00:12.1234567 +05:30)),
        };
        assert_eq!(
            serde_json::to_string(&stamp).unwrap(),
            r#"{"at":"2024-03-01T15:00:12.1234567+05:30"}"#
        );
    }

    #[test]
    fn absent_and_null_read_as_none() {
        assert_eq!(serde_json::from_str::<Stamp>("{}").unwrap().at, None);
        assert_eq!(
            serde_json::from_str::<Stamp>(r#"{"at":null}"#).unwrap().at,
            None
        );
    }

    #[test]
    fn rejects_a_datetime_without_offset_with_an_error() {
        assert!(read("2024-03-01T09:30:12").is_err());
        assert!(read("yesterday").is_err());
    }

    #[test]
    fn digits_beyond_nanoseconds_are_truncated() {
        let at = read("2024-03-01T09:30:12.1234567891Z").unwrap().unwrap();
        assert_eq!(at.nanosecond(), 123_456_789);
    }

    #[test]
    fn an_offset_with_seconds_fails_to_write_with_an_error_not_a_panic() {
        let stamp = Stamp {
            at: Some(datetime!(2024-03-01 09:30:12 +01:00:30)),
        };
        assert!(serde_json::to_string(&stamp).is_err());
    }
}
