//! Generated values of the directory: user and role ids, temporary passwords
//! and timestamps.

use time::OffsetDateTime;

/// How many random alphanumerics follow an id prefix (Okta ids are 20
/// characters: a 3-character kind prefix and 17 more).
const ID_RANDOM_LEN: usize = 17;

/// A new id: `prefix` (`"00u"` for users, `"rol"` for roles) and 17 random
/// alphanumerics, so it always fits the contract's `{id}` pattern.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + ID_RANDOM_LEN);
    id.push_str(prefix);
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(ID_RANDOM_LEN));
    id
}

/// A temporary password: 16 characters, with a lower-case letter, an
/// upper-case letter, a digit and a symbol, as identity providers require.
pub(crate) fn temporary_password() -> String {
    let mut password: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(12)
        .collect();
    password.push(fastrand::lowercase());
    password.push(fastrand::uppercase());
    password.push(fastrand::digit(10));
    password.push('!');
    password
}

/// Now, in .NET's resolution: 100 ns ticks, written with seven fractional
/// digits as the service writes them. (The last tick digit is kept non-zero,
/// a shift of at most 100 ns, so that RFC 3339 output, which drops trailing
/// zeros, always shows all seven.)
pub(crate) fn now() -> OffsetDateTime {
    ticks(OffsetDateTime::now_utc())
}

pub(crate) fn ticks(at: OffsetDateTime) -> OffsetDateTime {
    let mut nanos = at.nanosecond() / 100 * 100;
    if (nanos / 100).is_multiple_of(10) {
        nanos += 100;
    }
    at.replace_nanosecond(nanos).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    #[test]
    fn ids_fit_the_contract_pattern() {
        for _ in 0..100 {
            let id = new_id("00u");
            assert_eq!(id.len(), 20);
            assert!(identity_models::is_valid_user_id(&id), "{id}");
        }
    }

    #[test]
    fn timestamps_have_seven_fractional_digits() {
        for at in [
            datetime!(2024-03-01 09:30:12 UTC),
            datetime!(2024-03-01 09:30:12.123456789 UTC),
            datetime!(2024-03-01 09:30:12.5 UTC),
            datetime!(2024-03-01 09:30:12.999999999 UTC),
        ] {
            let text = ticks(at).format(&Rfc3339).unwrap();
            let fraction = text.split_once('.').unwrap().1.trim_end_matches('Z');
            assert_eq!(fraction.len(), 7, "{text}");
        }
        assert_eq!(
            ticks(datetime!(2024-03-01 09:30:12.123456789 UTC)).nanosecond(),
            123_456_700
        );
    }

    #[test]
    fn temporary_passwords_differ_and_have_every_character_class() {
        let (a, b) = (temporary_password(), temporary_password());
        assert_ne!(a, b);
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
    }
}
