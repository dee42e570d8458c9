//! The lifecycle table of the service's contract: which status each
//! lifecycle operation is valid from and what it leads to. Pure: no clock,
//! no storage.
//!
//! Choices where the contract is silent:
//! - On a `DEPROVISIONED` (deleted) user every operation but
//!   SendActivationEmail (which is documented as valid from it) fails with
//!   705 "user in a deleted state", before any other status rule.
//! - SendActivationEmail on a user that was activated before (`ACTIVE`,
//!   `PASSWORD_EXPIRED`, `LOCKED_OUT`, `RECOVERY`) fails with 707 "already
//!   activated"; on `SUSPENDED` or an unknown status with 717.
//! - ResetFactors on a Service user fails with 786 "not valid for this user
//!   type": service accounts sign in with the password grant and have no MFA
//!   enrolment to reset. Every other operation is valid for both types.

use identity_models::{UserStatus, UserType};

/// A lifecycle operation (the `$...` paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LifecycleAction {
    /// SendActivationEmail (`$activate`).
    Activate,
    /// UnlockUser (`$unlock`).
    Unlock,
    /// UnsuspendUser (`$unsuspend`).
    Unsuspend,
    /// ResetPassword (`$resetpassword`).
    ResetPassword,
    /// ExpirePassword (`$expirepassword`).
    ExpirePassword,
    /// ResetFactors (`$resetfactors`).
    ResetFactors,
}

impl LifecycleAction {
    /// The contract's operation name.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Self::Activate => "SendActivationEmail",
            Self::Unlock => "UnlockUser",
            Self::Unsuspend => "UnsuspendUser",
            Self::ResetPassword => "ResetPassword",
            Self::ExpirePassword => "ExpirePassword",
            Self::ResetFactors => "ResetFactors",
        }
    }
}

/// Why a lifecycle operation is refused (each maps to one service error code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 705: the user is deleted.
    Deleted,
    /// 706: UnlockUser on a user that is not locked out.
    NotLockedOut,
    /// 707: SendActivationEmail on a user activated before.
    AlreadyActivated,
    /// 717: the status is not valid for the operation.
    StatusInvalid,
    /// 718: ResetPassword from a status it is not valid from.
    InvalidForResetPassword,
    /// 719: ExpirePassword from a status it is not valid from.
    InvalidForExpirePassword,
    /// 786: the operation is not valid for the user's type.
    InvalidForUserType,
}

/// The status `action` leads to from `status`, or why it is refused.
pub(crate) fn next_status(
    action: LifecycleAction,
    user_type: &UserType,
    status: &UserStatus,
) -> Result<UserStatus, Refusal> {
    use UserStatus as S;
    if *status == S::Deprovisioned && action != LifecycleAction::Activate {
        return Err(Refusal::Deleted);
    }
    match action {
        LifecycleAction::Activate => match status {
            S::Staged | S::Provisioned | S::Deprovisioned => Ok(S::Provisioned),
            S::Active | S::PasswordExpired | S::LockedOut | S::Recovery => {
                Err(Refusal::AlreadyActivated)
            }
            S::Suspended | S::Other(_) => Err(Refusal::StatusInvalid),
        },
        LifecycleAction::Unlock => match status {
            S::LockedOut => Ok(S::Active),
            _ => Err(Refusal::NotLockedOut),
        },
        LifecycleAction::Unsuspend => match status {
            S::Suspended => Ok(S::Active),
            _ => Err(Refusal::StatusInvalid),
        },
        LifecycleAction::ResetPassword => match status {
            S::Active | S::PasswordExpired | S::LockedOut | S::Recovery => Ok(S::Recovery),
            _ => Err(Refusal::InvalidForResetPassword),
        },
        LifecycleAction::ExpirePassword => match status {
            S::Active | S::PasswordExpired | S::Recovery => Ok(S::PasswordExpired),
            _ => Err(Refusal::InvalidForExpirePassword),
        },
        LifecycleAction::ResetFactors if *user_type == UserType::Service => {
            Err(Refusal::InvalidForUserType)
        }
        LifecycleAction::ResetFactors => Ok(status.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleAction as A;
    use UserStatus as S;

    const ALL: [S; 8] = [
        S::Staged,
        S::Provisioned,
        S::Active,
        S::Recovery,
        S::PasswordExpired,
        S::LockedOut,
        S::Suspended,
        S::Deprovisioned,
    ];

    /// The whole table for one action: (from, expected) for every status.
    fn check(action: LifecycleAction, user_type: UserType, expected: &[(S, Result<S, Refusal>)]) {
        assert_eq!(expected.len(), ALL.len());
        for (from, want) in expected {
            assert_eq!(
                next_status(action, &user_type, from),
                *want,
                "{action:?} from {from} ({user_type})"
            );
        }
    }

    #[test]
    fn activate() {
        let done = Refusal::AlreadyActivated;
        check(
            A::Activate,
            UserType::Personal,
            &[
                (S::Staged, Ok(S::Provisioned)),
                (S::Provisioned, Ok(S::Provisioned)),
                (S::Active, Err(done)),
                (S::Recovery, Err(done)),
                (S::PasswordExpired, Err(done)),
                (S::LockedOut, Err(done)),
                (S::Suspended, Err(Refusal::StatusInvalid)),
                (S::Deprovisioned, Ok(S::Provisioned)),
            ],
        );
    }

    #[test]
    fn unlock_and_unsuspend() {
        let not_locked = Refusal::NotLockedOut;
        check(
            A::Unlock,
            UserType::Personal,
            &[
                (S::Staged, Err(not_locked)),
                (S::Provisioned, Err(not_locked)),
                (S::Active, Err(not_locked)),
                (S::Recovery, Err(not_locked)),
                (S::PasswordExpired, Err(not_locked)),
                (S::LockedOut, Ok(S::Active)),
                (S::Suspended, Err(not_locked)),
                (S::Deprovisioned, Err(Refusal::Deleted)),
            ],
        );
        let invalid = Refusal::StatusInvalid;
        check(
            A::Unsuspend,
            UserType::Service,
            &[
                (S::Staged, Err(invalid)),
                (S::Provisioned, Err(invalid)),
                (S::Active, Err(invalid)),
                (S::Recovery, Err(invalid)),
                (S::PasswordExpired, Err(invalid)),
                (S::LockedOut, Err(invalid)),
                (S::Suspended, Ok(S::Active)),
                (S::Deprovisioned, Err(Refusal::Deleted)),
            ],
        );
    }

    #[test]
    fn reset_and_expire_password() {
        let no_reset = Refusal::InvalidForResetPassword;
        check(
            A::ResetPassword,
            UserType::Personal,
            &[
                (S::Staged, Err(no_reset)),
                (S::Provisioned, Err(no_reset)),
                (S::Active, Ok(S::Recovery)),
                (S::Recovery, Ok(S::Recovery)),
                (S::PasswordExpired, Ok(S::Recovery)),
                (S::LockedOut, Ok(S::Recovery)),
                (S::Suspended, Err(no_reset)),
                (S::Deprovisioned, Err(Refusal::Deleted)),
            ],
        );
        let no_expire = Refusal::InvalidForExpirePassword;
        check(
            A::ExpirePassword,
            UserType::Personal,
            &[
                (S::Staged, Err(no_expire)),
                (S::Provisioned, Err(no_expire)),
                (S::Active, Ok(S::PasswordExpired)),
                (S::Recovery, Ok(S::PasswordExpired)),
                (S::PasswordExpired, Ok(S::PasswordExpired)),
                (S::LockedOut, Err(no_expire)),
                (S::Suspended, Err(no_expire)),
                (S::Deprovisioned, Err(Refusal::Deleted)),
            ],
        );
    }

    #[test]
    fn reset_factors_keeps_the_status_except_for_deleted_or_service_users() {
        for status in ALL {
            let personal = next_status(A::ResetFactors, &UserType::Personal, &status);
            let service = next_status(A::ResetFactors, &UserType::Service, &status);
            if status == S::Deprovisioned {
                assert_eq!(personal, Err(Refusal::Deleted));
                assert_eq!(service, Err(Refusal::Deleted));
            } else {
                assert_eq!(personal, Ok(status));
                assert_eq!(service, Err(Refusal::InvalidForUserType));
            }
        }
    }

    #[test]
    fn unknown_statuses_are_refused_not_accepted() {
        let odd = S::Other("ARCHIVED".into());
        assert_eq!(
            next_status(A::Activate, &UserType::Personal, &odd),
            Err(Refusal::StatusInvalid)
        );
        assert_eq!(
            next_status(A::Unlock, &UserType::Personal, &odd),
            Err(Refusal::NotLockedOut)
        );
    }
}
