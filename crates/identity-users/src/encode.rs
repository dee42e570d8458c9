//! Percent-encoding of what a caller puts in a URL: path segments and query
//! values.
//!
//! Everything outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is
//! encoded, byte by byte of its UTF-8, so that no id can address another
//! resource: `a/b` stays one segment (`a%2Fb`), `a?b` cannot start a query,
//! `%2e%2e` is sent as the text it is (`%252e%252e`). The client does not
//! enforce the service's id pattern (the service answers for that), but an id
//! that cannot be one segment at all (empty, `.` or `..`, which every URL
//! normaliser folds away) is refused before any request is made.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Error;

/// Bytes that are encoded: all but the unreserved set of RFC 3986.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends `value` to `path` as one path segment, encoded, or refuses it
/// when it cannot be one.
pub(crate) fn push_path_segment(
    path: &mut String,
    what: &'static str,
    value: &str,
) -> Result<(), Error> {
    match value {
        "" => Err(Error::invalid_input(what, "it is empty")),
        "." | ".." => Err(Error::invalid_input(
            what,
            "`.` and `..` are not a path segment (they address another resource)",
        )),
        _ => {
            path.extend(utf8_percent_encode(value, NOT_UNRESERVED));
            Ok(())
        }
    }
}

/// Appends `name=value` to a query string, encoding the value.
pub(crate) fn push_query_pair(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(name);
    query.push('=');
    query.extend(utf8_percent_encode(value, NOT_UNRESERVED));
}

#[cfg(test)]
mod tests {

    use super::*;
    use percent_encoding::percent_decode_str;
    use proptest::prelude::*;

    fn path_segment(what: &'static str, value: &str) -> Result<String, Error> {
        let mut path = String::new();
        push_path_segment(&mut path, what, value).map(|()| path)
    }

    #[test]
    fn hostile_ids_stay_one_segment() {
        let cases = [
            ("../roles", "..%2Froles"),
            ("a/b", "a%2Fb"),
            ("a?b", "a%3Fb"),
            ("a#b", "a%23b"),
            ("%2e%2e", "%252e%252e"),
            ("%", "%25"),
            ("ünï", "%C3%BCn%C3%AF"),
            ("a b+c", "a%20b%2Bc"),
            ("$runnable", "%24runnable"),
            ("00u1-_.~", "00u1-_.~"),
        ];
        for (id, encoded) in cases {
            assert_eq!(path_segment("user id", id).unwrap(), encoded, "{id}");
        }
    }

    #[test]
    fn ids_that_cannot_be_a_segment_are_refused() {
        for id in ["", ".", ".."] {
            let error = path_segment("user id", id).unwrap_err();
            assert!(error.to_string().contains("user id"), "{error}");
        }
        assert!(path_segment("user id", "...").is_ok());
    }

    #[test]
    fn query_pairs_are_joined_and_encoded() {
        let mut query = String::new();
        push_query_pair(&mut query, "id", "a&b=c");
        push_query_pair(&mut query, "id", "d");
        assert_eq!(query, "id=a%26b%3Dc&id=d");
    }

    proptest! {
        #[test]
        fn any_segment_decodes_back_and_has_no_delimiter(id in "\\PC{1,40}") {
            prop_assume!(id != "." && id != "..");
            let encoded = path_segment("user id", &id).unwrap();
            prop_assert!(!encoded.contains(['/', '?', '#']));
            prop_assert_eq!(percent_decode_str(&encoded).decode_utf8().unwrap(), id);
        }
    }
}
