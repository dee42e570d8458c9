//! The contract's rule for a user id in a path (`{id}`).

/// The most characters a user id may have.
const MAX_USER_ID_LEN: usize = 64;

/// Whether `id` fits the contract's `{id}` path parameter: 1 to 64 of
/// `[A-Za-z0-9_-]` (pattern `^[a-zA-Z0-9\-_]+$`).
///
/// ```
/// use identity_models::is_valid_user_id;
/// assert!(is_valid_user_id("00u1abcd-EF_2"));
/// assert!(!is_valid_user_id("a/b"));
/// assert!(!is_valid_user_id(""));
/// ```
pub fn is_valid_user_id(id: &str) -> bool {
    // All allowed characters are ASCII, so bytes and characters agree here.
    (1..=MAX_USER_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
