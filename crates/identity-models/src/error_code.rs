//! [`ErrorCode`]: the service's documented error codes, by name.
//!
//! A problem document's `code` is a number ([`LusidProblemDetails::code`](crate::LusidProblemDetails));
//! a program that acts on it matches a name instead: `ErrorCode::UserAlreadyExists`
//! rather than `658`. The table is the service's own (the "Error Codes" of its
//! OpenAPI document). A number it does not list is kept in
//! [`ErrorCode::Other`], so that a newer service's codes still read and
//! compare.
//!
//! ```
//! use identity_models::ErrorCode;
//!
//! assert_eq!(ErrorCode::from(658), ErrorCode::UserAlreadyExists);
//! assert_eq!(ErrorCode::UserAlreadyExists.number(), 658);
//! assert_eq!(ErrorCode::UserAlreadyExists.title(), Some("User already exists"));
//! assert_eq!(ErrorCode::from(9999), ErrorCode::Other(9999));
//! assert_eq!(ErrorCode::from(9999).to_string(), "9999");
//! ```

use std::fmt;

/// Declares [`ErrorCode`] from its table: variant, number, the service's title.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $number:literal, $title:literal; )+) => {
        /// An error code of the FINBOURNE Identity service (the `code` of a
        /// problem document), by name; a number the service does not
        /// document is kept in `Other`.
        ///
        /// New codes may be named in a minor release: match them with a
        /// wildcard arm.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                $(#[$doc])*
                #[doc = concat!("`", stringify!($number), "`: ", $title, ".")]
                $variant,
            )+
            /// A code this SDK does not name, kept as it came.
            Other(i32),
        }

        impl ErrorCode {
            /// The code as the service sends it.
            pub const fn number(self) -> i32 {
                match self {
                    $( Self::$variant => $number, )+
                    Self::Other(number) => number,
                }
            }

            /// The service's title for the code, when it documents it.
            pub const fn title(self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => Some($title), )+
                    Self::Other(_) => None,
                }
            }
        }

        impl From<i32> for ErrorCode {
            fn from(number: i32) -> Self {
                match number {
                    $( $number => Self::$variant, )+
                    other => Self::Other(other),
                }
            }
        }
    };
}

error_codes! {
    /// An unexpected error on the service's side.
    UnknownError = -1, "Unknown error";
    DuplicateInParameterSet = 144, "Duplicate in parameter set";
    /// A value of the request is not valid (the field errors say which).
    InvalidParameterValue = 151, "Invalid parameter value";
    ActionExecutionFailure = 152, "Action execution failure";
    /// The request is not valid as a whole.
    InvalidRequest = 157, "Invalid request";
    AccessDenied = 186, "Access denied";
    InvalidIdentityToken = 187, "Invalid identity token";
    MaxUserApiKeyLimitReached = 238, "Max user API key limit reached";
    ApiKeyNotFound = 239, "API key not found";
    /// The user does not exist (with a 404).
    UserNotFound = 657, "User does not exist";
    /// A user with the login (or another identifier) exists already.
    UserAlreadyExists = 658, "User already exists";
    ApiKeyDisplayNameInUse = 659, "API key display name already in use";
    RoleNotFound = 660, "Role does not exist";
    RoleNotFoundInIdentityProvider = 661, "Role does not exist in identity provider";
    ApplicationNotFound = 662, "Application does not exist";
    TokenNotFound = 663, "Token does not exist";
    SsoIncorrectlyConfigured = 679, "Single sign-on (SSO) incorrectly configured";
    IdentityProviderNotFound = 680, "Identity provider not found";
    InvalidPaginationToken = 689, "The supplied pagination token is invalid";
    ImpersonationNotSupported = 692, "This endpoint does not support impersonation";
    /// The user is deleted (`DEPROVISIONED`).
    UserDeleted = 705, "User in a deleted state";
    /// UnlockUser of a user who is not locked out.
    UserNotLockedOut = 706, "User is not locked out";
    /// SendActivationEmail of a user already active.
    UserAlreadyActivated = 707, "User is already activated";
    /// The user's status does not allow the operation.
    StatusInvalidForOperation = 717, "User's status is invalid for the given operation";
    /// ResetPassword of a user in a status that does not allow it.
    StatusInvalidForPasswordReset = 718, "User's status is invalid for resetting the user's password";
    /// ExpirePassword of a user in a status that does not allow it.
    StatusInvalidForPasswordExpiry = 719, "User's status is invalid for expiring the user's password";
    CannotUpdatePassword = 784, "Cannot update password";
    IncorrectAuthenticationType = 785, "Incorrect authentication type for action";
    /// The operation does not apply to a user of this type.
    ActionNotValidForUserType = 786, "Action not valid for user of this type";
    PasswordValidationFailure = 787, "Password validation failure";
    ImpersonatedUserNotFound = 871, "The specified impersonated user does not exist";
    BlockedByNetworkZone = 939, "Blocked by a network zone";
    OktaSystemLogQueryFailure = 943, "Failure when querying Okta system logs";
    InvalidAuthenticationToken = 2153, "Invalid authentication token";
    InvalidIdentityProviderAccessToken = 2154, "Invalid identity provider access token";
    TenantSchedulerDomainJobError = 2200, "Tenant scheduler domain job error";
}

impl From<ErrorCode> for i32 {
    fn from(code: ErrorCode) -> Self {
        code.number()
    }
}

/// The number, as the service writes it (`658`).
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(self.number())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i32::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_reads_back_as_itself() {
        for number in -2..2300 {
            let code = ErrorCode::from(number);
            assert_eq!(code.number(), number);
            assert_eq!(code.title().is_some(), !matches!(code, ErrorCode::Other(_)));
            assert_eq!(serde_json::to_string(&code).unwrap(), number.to_string());
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&number.to_string()).unwrap(),
                code
            );
        }
    }

    #[test]
    fn the_codes_a_program_acts_on_have_names() {
        assert_eq!(ErrorCode::from(657), ErrorCode::UserNotFound);
        assert_eq!(ErrorCode::from(658), ErrorCode::UserAlreadyExists);
        assert_eq!(ErrorCode::from(706), ErrorCode::UserNotLockedOut);
        assert_eq!(ErrorCode::from(717), ErrorCode::StatusInvalidForOperation);
        assert_eq!(
            ErrorCode::from(719),
            ErrorCode::StatusInvalidForPasswordExpiry
        );
    }
}
