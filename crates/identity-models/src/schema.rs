//! The user schema: which alternative user id properties the domain defines.

use serde::{Deserialize, Serialize};

/// One alternative user id property of the user schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSchemaProperty {
    /// The property name (1 to 50 of `[A-Za-z0-9_]`).
    pub name: String,
    /// What the property holds (at most 80 characters).
    pub description: String,
}

impl UserSchemaProperty {
    /// A property from its name and description.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// The user schema as the service returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSchemaResponse {
    /// The alternative user id properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_user_ids: Option<Vec<UserSchemaProperty>>,
}

/// The body of UpdateUserSchema: the whole new list of properties (at most 10).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserSchemaRequest {
    /// The alternative user id properties.
    pub alternative_user_ids: Vec<UserSchemaProperty>,
}

impl UpdateUserSchemaRequest {
    /// A schema update from its properties.
    pub fn new(alternative_user_ids: Vec<UserSchemaProperty>) -> Self {
        Self {
            alternative_user_ids,
        }
    }
}
