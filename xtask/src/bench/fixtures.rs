//! The answers the benchmark server sends: users of a realistic size, as
//! the service writes them, and the FindUsersById answer for the ids asked.

use bytes::Bytes;
use identity_models::{ListUsersResponse, UserResponse};
use serde_json::{Map, Value, json};

/// The id of the user GetUser asks for.
pub(crate) const USER_ID: &str = "00u8f3k2h1QbWx5Lz4x7";

/// Ids that start with this are answered as not found by FindUsersById.
pub(crate) const MISSING_PREFIX: &str = "missing-";

/// The user number `n`, as the service writes it (without roles, as
/// GetUser and ListUsers answer by default): about 800 bytes of JSON.
pub(crate) fn user(n: usize) -> Value {
    let id = user_id(n);
    let first = ["Ann", "Bob", "Chidi", "Dana", "Eitan", "Fatima", "Goran"][n % 7];
    let last = ["Lee", "Okafor", "Novak", "Schmidt", "Tanaka", "Haddad"][n % 6];
    let email = format!(
        "{}.{}{n}@acme-asset-management.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let href = format!("https://acme.lusid.com/identity/api/users/{id}");
    json!({
        "id": id,
        "alternativeUserIds": { "employeeId": format!("E{n:07}"), "costCentre": "CC-4410-LDN" },
        "emailAddress": email,
        "login": email,
        "firstName": first,
        "lastName": last,
        "type": if n % 10 == 9 { "Service" } else { "Personal" },
        "status": if n.is_multiple_of(13) { "PROVISIONED" } else { "ACTIVE" },
        "external": false,
        "lastLogin": "2024-11-18T09:41:27.1234567+00:00",
        "lastUpdated": "2024-10-02T16:05:11.5000000+00:00",
        "created": "2023-03-14T08:00:00.0000000+00:00",
        "passwordChanged": "2024-09-30T12:30:45.0000000+00:00",
        "links": [
            { "relation": "Self", "href": href, "method": "GET" },
            {
                "relation": "Roles",
                "href": format!("{href}?includeRoles=true"),
                "description": "The user with its roles",
                "method": "GET"
            }
        ]
    })
}

/// The id of user number `n`.
pub(crate) fn user_id(n: usize) -> String {
    if n == 0 {
        USER_ID.to_owned()
    } else {
        format!("00u{n:017}")
    }
}

/// GetUser's answer: one user.
pub(crate) fn get_user_body() -> Result<Bytes, String> {
    let body = serde_json::to_vec(&user(0)).map_err(|e| e.to_string())?;
    serde_json::from_slice::<UserResponse>(&body)
        .map_err(|e| format!("the GetUser fixture is not a UserResponse: {e}"))?;
    Ok(Bytes::from(body))
}

/// ListUsers' answer: a JSON array of `count` users.
pub(crate) fn list_users_body(count: usize) -> Result<Bytes, String> {
    let users: Vec<Value> = (0..count).map(user).collect();
    let body = serde_json::to_vec(&users).map_err(|e| e.to_string())?;
    let decoded: Vec<UserResponse> = serde_json::from_slice(&body)
        .map_err(|e| format!("the ListUsers fixture is not a list of UserResponse: {e}"))?;
    if decoded.len() != count {
        return Err("the ListUsers fixture lost users".to_owned());
    }
    Ok(Bytes::from(body))
}

/// FindUsersById's answer for `ids`: a summary for each, except the ids
/// starting with [`MISSING_PREFIX`], which fail.
pub(crate) fn find_users_body(ids: &[String]) -> Bytes {
    let mut values = Map::new();
    let mut failed = Map::new();
    for id in ids {
        if id.starts_with(MISSING_PREFIX) {
            failed.insert(
                id.clone(),
                json!({ "id": id, "type": "NotFound", "detail": "The user could not be found" }),
            );
        } else {
            values.insert(
                id.clone(),
                json!({
                    "id": id,
                    "login": format!("{id}@acme-asset-management.com"),
                    "email": format!("{id}@acme-asset-management.com"),
                    "firstName": "Ann",
                    "lastName": "Lee",
                    "type": "Personal"
                }),
            );
        }
    }
    let answer = json!({
        "href": "https://acme.lusid.com/identity/api/directory",
        "values": values,
        "failed": failed,
    });
    Bytes::from(answer.to_string())
}

/// The ids a FindUsersById call of the benchmark asks for: `count` ids,
/// one in fifty unknown.
pub(crate) fn find_ids(count: usize) -> Vec<String> {
    (0..count)
        .map(|n| {
            if n % 50 == 49 {
                format!("{MISSING_PREFIX}{n}")
            } else {
                user_id(n + 1)
            }
        })
        .collect()
}

/// Checks a merged FindUsersById answer against the ids asked.
pub(crate) fn check_find_answer(ids: &[String], answer: &ListUsersResponse) -> Result<(), String> {
    let missing = ids
        .iter()
        .filter(|id| id.starts_with(MISSING_PREFIX))
        .count();
    let found = answer.values.as_ref().map_or(0, |values| values.len());
    let failed = answer.failed.as_ref().map_or(0, |failed| failed.len());
    if found == ids.len() - missing && failed == missing {
        Ok(())
    } else {
        Err(format!(
            "FindUsersById answered {found} users and {failed} failures for {} ids ({missing} unknown)",
            ids.len()
        ))
    }
}
