//! The Users operations of the contract, each described once, as data.
//!
//! An operation is a zero-sized marker type that implements [`Operation`]:
//! its HTTP method, path template, whether replaying it is safe, and what a
//! successful answer decodes into. Everything else (building the request,
//! calling the service, decoding the answer or the error) is written once, in
//! [`Call`](crate::Call), for all of them.
//!
//! Idempotency decides what the retry layer may replay after a failure that
//! may have reached the service. GET, PUT and DELETE are idempotent. Of the
//! lifecycle POSTs, ResetFactors, UnlockUser and UnsuspendUser leave the user
//! as one call would when repeated; SendActivationEmail and ResetPassword send
//! an email each time, ExpirePassword makes a new password each time and
//! CreateUser makes a user each time: those four are replayed only when the
//! request provably never reached the service.
//!
//! Three operations also say which refusal, to a call replayed after an
//! attempt the service may have processed, is that attempt's own success:
//! UnlockUser's 706 (not locked out) and UnsuspendUser's 717 (status
//! invalid) once a GetUser finds the user `ACTIVE`, and DeleteUser's 404 (a
//! purged user is gone). See [`Call::send`](crate::Call::send).

use http::{Method, StatusCode};
use identity_call::OperationInfo;
use identity_models::{
    ErrorCode, ListUsersResponse, TemporaryPassword, UserResponse, UserSchemaResponse, UserStatus,
};

use crate::Error;
use crate::decode::Decode;
use crate::encode::push_path_segment;

/// One operation of the Users API: one of the marker types of this module
/// (sealed: the contract's operations are the only ones).
pub trait Operation: sealed::Sealed {
    /// What a successful answer decodes into.
    type Output: Decode;
    /// The HTTP method.
    const METHOD: Method;
    /// The contract's name, path template and idempotency.
    const INFO: OperationInfo;
}

macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        $name:ident: $method:ident $path:literal, idempotent: $idempotent:literal => $output:ty
            $(, already done: $already:expr)?;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl sealed::Sealed for $name {
                $(const ALREADY_DONE: Option<AlreadyDone> = Some($already);)?
            }

            impl Operation for $name {
                type Output = $output;
                const METHOD: Method = Method::$method;
                const INFO: OperationInfo =
                    OperationInfo::new(stringify!($name), $path, $idempotent);
            }
        )*

        /// Every operation of the table.
        pub const ALL: &[OperationInfo] = &[$(<$name as Operation>::INFO),*];

        /// The HTTP method of the operation named `name` (its contract name,
        /// as errors carry it), or `None` for a name not in the table.
        pub fn method_of(name: &str) -> Option<Method> {
            match name {
                $(stringify!($name) => Some(Method::$method),)*
                _ => None,
            }
        }
    };
}

operations! {
    /// CreateUser: creates a user; answers the new user.
    CreateUser: POST "/api/users", idempotent: false => UserResponse;
    /// DeleteUser: de-provisions a user (kept for audit), or purges it.
    DeleteUser: DELETE "/api/users/{id}", idempotent: true => (),
        already done: AlreadyDone::answer(StatusCode::NOT_FOUND, None, None);
    /// ExpirePassword: sets an expired temporary password and answers it.
    ExpirePassword: POST "/api/users/{id}/lifecycle/$expirepassword", idempotent: false => TemporaryPassword;
    /// FindUsersById: looks up to 50 users by id in the directory.
    FindUsersById: GET "/api/directory", idempotent: true => ListUsersResponse;
    /// GetUser: one user, with its roles on request.
    GetUser: GET "/api/users/{id}", idempotent: true => UserResponse;
    /// GetUserFromLogin: one user, by login (newer services).
    GetUserFromLogin: GET "/api/users/fromlogin/{login}", idempotent: true => UserResponse;
    /// GetUserSchema: the alternative-user-id properties of the domain (experimental).
    GetUserSchema: GET "/api/users/schema", idempotent: true => UserSchemaResponse;
    /// ListRunnableUsers: the users that can run jobs (early access).
    ListRunnableUsers: GET "/api/users/$runnable", idempotent: true => Vec<UserResponse>;
    /// ListUsers: every user, and the deleted ones on request.
    ListUsers: GET "/api/users", idempotent: true => Vec<UserResponse>;
    /// ResetFactors: clears the user's multi-factor enrolment.
    ResetFactors: POST "/api/users/{id}/lifecycle/$resetfactors", idempotent: true => ();
    /// ResetPassword: starts a password reset (sends an email).
    ResetPassword: POST "/api/users/{id}/lifecycle/$resetpassword", idempotent: false => ();
    /// SendActivationEmail: (re)sends the activation email.
    SendActivationEmail: POST "/api/users/{id}/lifecycle/$activate", idempotent: false => ();
    /// UnlockUser: unlocks a user locked out after failed logins.
    UnlockUser: POST "/api/users/{id}/lifecycle/$unlock", idempotent: true => (),
        already done: AlreadyDone::answer(StatusCode::BAD_REQUEST, Some(ErrorCode::UserNotLockedOut), Some(UserStatus::Active));
    /// UnsuspendUser: returns a suspended user to active (experimental).
    UnsuspendUser: POST "/api/users/{id}/lifecycle/$unsuspend", idempotent: true => (),
        already done: AlreadyDone::answer(StatusCode::BAD_REQUEST, Some(ErrorCode::StatusInvalidForOperation), Some(UserStatus::Active));
    /// UpdateUser: replaces the user's details.
    UpdateUser: PUT "/api/users/{id}", idempotent: true => UserResponse;
    /// UpdateUserSchema: replaces the alternative-user-id properties (experimental).
    UpdateUserSchema: PUT "/api/users/schema", idempotent: true => UserSchemaResponse;
}

mod sealed {
    use http::StatusCode;
    use identity_models::{ErrorCode, UserStatus};

    /// A refusal that means "already in the state this call asked for": to a
    /// call replayed after an attempt the service may have processed, it is
    /// that attempt's success.
    #[derive(Clone, Debug)]
    pub struct AlreadyDone {
        status: StatusCode,
        code: Option<ErrorCode>,
        /// The status a GetUser must find the user in for the refusal to count;
        /// `None`: the refusal is proof enough.
        pub(crate) user_status: Option<UserStatus>,
    }

    impl AlreadyDone {
        /// `status` with the problem `code` (any code when `None`), counted
        /// only when a GetUser then finds the user in `user_status` (when set).
        pub(crate) const fn answer(
            status: StatusCode,
            code: Option<ErrorCode>,
            user_status: Option<UserStatus>,
        ) -> Self {
            Self {
                status,
                code,
                user_status,
            }
        }

        /// Whether `error` is this refusal.
        pub(crate) fn is(&self, error: &crate::ApiError) -> bool {
            error.status == self.status && self.code.is_none_or(|code| error.code() == Some(code))
        }
    }

    /// Implemented by the operations of the table only.
    pub trait Sealed {
        /// The refusal that, to a call replayed after an attempt of unknown
        /// outcome, is that attempt's success (`None`: there is none).
        const ALREADY_DONE: Option<AlreadyDone> = None;
    }
}

pub(crate) use sealed::AlreadyDone;

/// A path template, split around its one `{parameter}` when it has one.
///
/// Made at compile time from the table (`const { PathTemplate::of(..) }`),
/// so that a call does not search its template for the parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathTemplate {
    /// A path without a parameter.
    Fixed(&'static str),
    /// The text before the parameter and after it.
    Parameter {
        before: &'static str,
        after: &'static str,
    },
}

impl PathTemplate {
    /// Splits `template` around its `{parameter}`.
    pub(crate) const fn of(template: &'static str) -> Self {
        let bytes = template.as_bytes();
        let mut open = 0;
        while open < bytes.len() && bytes[open] != b'{' {
            open += 1;
        }
        let mut close = open;
        while close < bytes.len() && bytes[close] != b'}' {
            close += 1;
        }
        if close == bytes.len() {
            return Self::Fixed(template);
        }
        let (before, _) = template.split_at(open);
        let (_, after) = template.split_at(close + 1);
        Self::Parameter { before, after }
    }

    /// A call's path: `prefix` (the base URL's path), then this template
    /// with `parameter`'s value (what it is, and the value) encoded in it;
    /// refused when that value would address another route, or when the
    /// parameter is missing or not wanted.
    pub(crate) fn path(
        self,
        prefix: &str,
        parameter: Option<(&'static str, &str)>,
    ) -> Result<String, Error> {
        let (before, after, (what, value)) = match (self, parameter) {
            (Self::Fixed(path), None) => return Ok([prefix, path].concat()),
            (Self::Parameter { before, after }, Some(parameter)) => (before, after, parameter),
            (template, parameter) => {
                let reason = format!("{template:?} does not take the parameter {parameter:?}");
                return Err(Error::invalid_input("path parameter", reason));
            }
        };
        if let Some(other) = self.route_taken_by(value) {
            return Err(Error::invalid_input(
                what,
                format!("`{value}` here would address {other}, not this user"),
            ));
        }
        let mut path =
            String::with_capacity(prefix.len() + before.len() + value.len() + after.len());
        path.push_str(prefix);
        path.push_str(before);
        push_path_segment(&mut path, what, value)?;
        path.push_str(after);
        Ok(path)
    }

    /// The operation whose own path `value`, put in the parameter, would
    /// address instead: `/api/users/{id}` with the id `schema` is the path
    /// of GetUserSchema and UpdateUserSchema. The service routes path
    /// segments after decoding them and without regard to case, so the
    /// value is compared as it is, ignoring case.
    pub(crate) fn route_taken_by(self, value: &str) -> Option<&'static str> {
        let Self::Parameter { before, after } = self else {
            return None;
        };
        ALL.iter()
            .find(|other| {
                let path = other.path_template();
                path.len() == before.len() + value.len() + after.len()
                    && path.is_char_boundary(before.len())
                    && path.is_char_boundary(before.len() + value.len())
                    && path[..before.len()].eq_ignore_ascii_case(before)
                    && path[before.len()..before.len() + value.len()].eq_ignore_ascii_case(value)
                    && path[before.len() + value.len()..].eq_ignore_ascii_case(after)
            })
            .map(|other| other.name())
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn route_taken_by(template: &'static str, value: &str) -> Option<&'static str> {
        PathTemplate::of(template).route_taken_by(value)
    }

    #[test]
    fn ids_that_spell_a_sibling_route_are_recognised() {
        assert_eq!(
            route_taken_by("/api/users/{id}", "schema"),
            Some("GetUserSchema")
        );
        assert_eq!(
            route_taken_by("/api/users/{id}", "SCHEMA"),
            Some("GetUserSchema")
        );
        assert_eq!(
            route_taken_by("/api/users/{id}", "$runnable"),
            Some("ListRunnableUsers")
        );
        assert_eq!(route_taken_by("/api/users/{id}", "00u1"), None);
        assert_eq!(route_taken_by("/api/users/{id}", "sché"), None);
        assert_eq!(
            route_taken_by("/api/users/{id}/lifecycle/$unlock", "schema"),
            None
        );
        assert_eq!(
            route_taken_by("/api/users/fromlogin/{login}", "schema"),
            None
        );
        assert_eq!(route_taken_by("/api/users", "schema"), None);
    }

    #[test]
    fn templates_split_around_their_parameter() {
        assert_eq!(
            PathTemplate::of("/api/users/{id}/lifecycle/$unlock"),
            PathTemplate::Parameter {
                before: "/api/users/",
                after: "/lifecycle/$unlock"
            }
        );
        assert_eq!(
            PathTemplate::of("/api/users/{id}"),
            PathTemplate::Parameter {
                before: "/api/users/",
                after: ""
            }
        );
        for fixed in ["/api/users", "/api/users/{id", ""] {
            assert_eq!(PathTemplate::of(fixed), PathTemplate::Fixed(fixed));
        }
    }

    #[test]
    fn paths_follow_the_prefix_with_the_parameter_encoded() {
        let user = PathTemplate::of("/api/users/{id}/lifecycle/$unlock");
        assert_eq!(
            user.path("/identity", Some(("user id", "a/b"))).unwrap(),
            "/identity/api/users/a%2Fb/lifecycle/$unlock"
        );
        let list = PathTemplate::of("/api/users");
        assert_eq!(list.path("", None).unwrap(), "/api/users");
        let error = PathTemplate::of("/api/users/{id}")
            .path("", Some(("user id", "schema")))
            .unwrap_err();
        assert!(error.to_string().contains("GetUserSchema"), "{error}");
        // A parameter missing, or one too many: an error, not a wrong path.
        assert!(user.path("", None).is_err());
        assert!(list.path("", Some(("user id", "00u1"))).is_err());
    }

    #[test]
    fn the_table_has_every_operation_once() {
        assert_eq!(ALL.len(), 16);
        let mut names: Vec<_> = ALL.iter().map(|info| info.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 16);
    }
}
