//! [`TemporaryPassword`]: ExpirePassword's answer, a secret that never shows in Debug.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A temporary password the user must change at next sign-in.
///
/// Its `Debug` output hides the password:
///
/// ```
/// use identity_models::TemporaryPassword;
/// let secret = TemporaryPassword { password: "hunter2".into() };
/// assert_eq!(format!("{secret:?}"), r#"TemporaryPassword { password: "[REDACTED]" }"#);
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryPassword {
    /// The password itself: hand it to the user, never log it.
    pub password: String,
}

impl fmt::Debug for TemporaryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryPassword")
            .field("password", &"[REDACTED]")
            .finish()
    }
}
