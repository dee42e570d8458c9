//! Roles: [`RoleId`] names a role in requests, [`RoleResponse`] describes one in answers.

use serde::{Deserialize, Serialize};

/// The identifier of a role: a scope and a code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleId {
    /// The scope the role lives in.
    pub scope: String,
    /// The role's code within its scope.
    pub code: String,
}

impl RoleId {
    /// A role id from its scope and code.
    pub fn new(scope: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            scope: scope.into(),
            code: code.into(),
        }
    }
}

/// A role as the service describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleResponse {
    /// The system id of the role.
    pub id: String,
    /// The role's scope and code.
    pub role_id: RoleId,
    /// Where the role comes from.
    pub source: String,
    /// The unique role name.
    pub name: String,
    /// A description of the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The name used in SAML just-in-time assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml_name: Option<String>,
}
