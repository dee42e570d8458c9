//! [`Link`]: a hypermedia link the service attaches to its answers.

use serde::{Deserialize, Serialize};

/// A link to a related resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The relation of the target to this resource.
    pub relation: String,
    /// The target's URI.
    pub href: String,
    /// What the link is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HTTP method to use on the target.
    pub method: String,
}
