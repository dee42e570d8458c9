//! [`UserStatus`]: where a user is in the identity provider's lifecycle.

use crate::open_enum::open_enum;

open_enum! {
    /// A user's lifecycle status, as the contract writes it (`"ACTIVE"`, ...).
    ///
    /// Any other value is kept in [`UserStatus::Other`] and written back unchanged.
    ///
    /// ```
    /// use identity_models::UserStatus;
    /// assert_eq!(UserStatus::from("LOCKED_OUT"), UserStatus::LockedOut);
    /// assert_eq!(UserStatus::from("ARCHIVED").as_str(), "ARCHIVED");
    /// ```
    UserStatus {
        /// `STAGED`: created, not yet provisioned.
        Staged => "STAGED",
        /// `PROVISIONED`: created, activation pending.
        Provisioned => "PROVISIONED",
        /// `ACTIVE`: the user can sign in.
        Active => "ACTIVE",
        /// `RECOVERY`: a password reset is in progress.
        Recovery => "RECOVERY",
        /// `PASSWORD_EXPIRED`: the password must be changed at next sign-in.
        PasswordExpired => "PASSWORD_EXPIRED",
        /// `LOCKED_OUT`: locked after too many failed sign-ins.
        LockedOut => "LOCKED_OUT",
        /// `SUSPENDED`: sign-in suspended by an administrator.
        Suspended => "SUSPENDED",
        /// `DEPROVISIONED`: deleted without purge.
        Deprovisioned => "DEPROVISIONED",
    }
}
