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

/// The hooks' path templates, for the request log on stderr.
const HOOK_TEMPLATES: [&str; 6] = [
    "/_emulator/health",
    "/_emulator/users/{id}/status",
    "/_emulator/requests",
    "/_emulator/faults",
    "/_emulator/rate-limit",
    "/_emulator/reset",
];

/// What the request log on stderr names a request by, never its raw path
/// (which may hold a login or an id): the path template of the route it
/// addresses and its operation, if any.
pub(crate) fn route_of(method: &Method, path: &str) -> (String, Option<&'static str>) {
    if path == TOKEN_PATH {
        return (TOKEN_PATH.to_owned(), classify(method, path));
    }
    if is_hook(path) {
        let template = HOOK_TEMPLATES
            .iter()
            .find(|template| literal_rank(template, path).is_some())
            .copied()
            .unwrap_or("/_emulator/(unknown)");
        return (template.to_owned(), None);
    }
    if let Some(api_path) = path.strip_prefix(API_PREFIX) {
        let operation = classify(method, path);
        let template = operation
            .and_then(|name| OPERATIONS.iter().find(|operation| operation.name == name))
            .map(|operation| operation.path)
            .or_else(|| {
                // The route the router would pick (literal segments win).
                OPERATIONS
                    .iter()
                    .filter_map(|operation| {
                        literal_rank(operation.path, api_path).map(|rank| (rank, operation.path))
                    })
                    .max_by(|(a, _), (b, _)| a.cmp(b))
                    .map(|(_, template)| template)
            });
        if let Some(template) = template {
            return (format!("{API_PREFIX}{template}"), operation);
        }
    }
    ("(unknown path)".to_owned(), None)
}

/// Whether `path` is under the Users API (`/identity` or `/identity/...`),
/// where every request needs a bearer token.
pub(crate) fn is_api(path: &str) -> bool {
    path.strip_prefix(API_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

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
    fn the_api_is_the_identity_prefix_and_below_only() {
        assert!(is_api("/identity") && is_api("/identity/api/users"));
        assert!(!is_api("/identityx/api") && !is_api("/oauth2/token") && !is_api("/"));
    }

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
    fn the_request_log_names_templates_never_raw_paths() {
        let cases = [
            (
                Method::GET,
                "/identity/api/users/00uSecret",
                "/identity/api/users/{id}",
                Some("GetUser"),
            ),
            (
                Method::GET,
                "/identity/api/users/fromlogin/ada%40example.com",
                "/identity/api/users/fromlogin/{login}",
                Some("GetUserFromLogin"),
            ),
            (
                Method::PATCH,
                "/identity/api/users/00u1",
                "/identity/api/users/{id}",
                None,
            ),
            (
                Method::POST,
                "/oauth2/token",
                "/oauth2/token",
                Some("Token"),
            ),
            (
                Method::PUT,
                "/_emulator/users/00u1/status",
                "/_emulator/users/{id}/status",
                None,
            ),
            (Method::GET, "/_emulator/health", "/_emulator/health", None),
            (
                Method::GET,
                "/_emulator/secret-place",
                "/_emulator/(unknown)",
                None,
            ),
            (Method::GET, "/ada@example.com", "(unknown path)", None),
        ];
        for (method, path, template, operation) in cases {
            assert_eq!(
                route_of(&method, path),
                (template.to_owned(), operation),
                "{path}"
            );
        }
    }

    #[test]
    fn hooks_are_recognised_by_prefix_only() {
        assert!(is_hook("/_emulator/requests"));
        assert!(!is_hook("/_emulatorx"));
        assert!(!is_hook("/identity/_emulator/requests"));
    }
}
