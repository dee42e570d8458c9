//! Which contract operation a request is, from its method and raw path,
//! before it is processed (the request log and the fault rules need the name
//! up front). It reads the same table the router is built from
//! ([`crate::routes::OPERATIONS`]) and prefers, like the router, a literal
//! segment over a `{parameter}` one.

use http::Method;

use crate::routes::{API_PREFIX, OPERATIONS, TOKEN_PATH};

/// The name of the token endpoint in the log and in fault rules.
pub(crate) const TOKEN_OPERATION: &str = "Token";

/// Where the emulator's own hooks live (never logged, never faulted).
pub(crate) const HOOK_PREFIX: &str = "/_emulator";

/// Whether `path` is one of the emulator's hooks.
pub(crate) fn is_hook(path: &str) -> bool {
    path.strip_prefix(HOOK_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The contract name of the operation `method path` addresses, if any.
pub(crate) fn classify(method: &Method, path: &str) -> Option<&'static str> {
    if path == TOKEN_PATH {
        return (method == Method::POST).then_some(TOKEN_OPERATION);
    }
    let api_path = path.strip_prefix(API_PREFIX)?;
    // The route the router would pick: the matching template whose first
    // parameter segment comes latest (literal segments win).
    let best = OPERATIONS
        .iter()
        .filter_map(|operation| {
            literal_rank(operation.path, api_path).map(|rank| (rank, operation.path))
        })
        .max_by(|(a, _), (b, _)| a.cmp(b))?
        .1;
    OPERATIONS
        .iter()
        .find(|operation| operation.path == best && operation.method == *method)
        .map(|operation| operation.name)
}

/// `None` if `path` does not fit `template`, else a rank: for each segment,
/// whether the template has a literal there (`true` beats `true`-less).
fn literal_rank(template: &str, path: &str) -> Option<Vec<bool>> {
    let mut template_segments = template.split('/');
    let mut path_segments = path.split('/');
    let mut rank = Vec::new();
    loop {
        match (template_segments.next(), path_segments.next()) {
            (None, None) => return Some(rank),
            (Some(wanted), Some(segment)) => {
                let parameter = wanted.starts_with('{') && wanted.ends_with('}');
                if parameter {
                    if segment.is_empty() {
                        return None;
                    }
                } else if wanted != segment {
                    return None;
                }
                rank.push(!parameter);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_operation_from_its_raw_path() {
        let cases = [
            (Method::POST, "/identity/api/users", Some("CreateUser")),
            (Method::GET, "/identity/api/users", Some("ListUsers")),
            (
                Method::GET,
                "/identity/api/users/schema",
                Some("GetUserSchema"),
            ),
            (
                Method::PUT,
                "/identity/api/users/schema",
                Some("UpdateUserSchema"),
            ),
            (
                Method::GET,
                "/identity/api/users/$runnable",
                Some("ListRunnableUsers"),
            ),
            (Method::GET, "/identity/api/users/00u1", Some("GetUser")),
            (
                Method::GET,
                "/identity/api/users/..%2Froles",
                Some("GetUser"),
            ),
            (
                Method::DELETE,
                "/identity/api/users/00u1",
                Some("DeleteUser"),
            ),
            (Method::PUT, "/identity/api/users/00u1", Some("UpdateUser")),
            (
                Method::GET,
                "/identity/api/users/fromlogin/a%40b.com",
                Some("GetUserFromLogin"),
            ),
            (
                Method::POST,
                "/identity/api/users/x/lifecycle/$activate",
                Some("SendActivationEmail"),
            ),
            (
                Method::POST,
                "/identity/api/users/x/lifecycle/$unlock",
                Some("UnlockUser"),
            ),
            (
                Method::POST,
                "/identity/api/users/x/lifecycle/$unsuspend",
                Some("UnsuspendUser"),
            ),
            (
                Method::POST,
                "/identity/api/users/x/lifecycle/$resetpassword",
                Some("ResetPassword"),
            ),
            (
                Method::POST,
                "/identity/api/users/x/lifecycle/$expirepassword",
                Some("ExpirePassword"),
            ),
            (
                Method::POST,
                "/identity/api/users/x/lifecycle/$resetfactors",
                Some("ResetFactors"),
            ),
            (
                Method::GET,
                "/identity/api/directory",
                Some("FindUsersById"),
            ),
            (Method::POST, "/oauth2/token", Some("Token")),
            // The router picks the literal route and answers 405: no operation.
            (Method::DELETE, "/identity/api/users/schema", None),
            (Method::GET, "/identity/api/users/", None),
            (Method::GET, "/identity/api/users/a/b", None),
            (Method::GET, "/api/users", None),
            (Method::GET, "/oauth2/token", None),
        ];
        for (method, path, expected) in cases {
            assert_eq!(classify(&method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn hooks_are_recognised_by_prefix_only() {
        assert!(is_hook("/_emulator/requests"));
        assert!(!is_hook("/_emulatorx"));
        assert!(!is_hook("/identity/_emulator/requests"));
    }
}
