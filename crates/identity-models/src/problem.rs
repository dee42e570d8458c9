//! The error bodies of the service: [`LusidProblemDetails`] and, for a 400,
//! [`LusidValidationProblemDetails`] with its per-field messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// The body the service sends with an error status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LusidProblemDetails {
    /// The error's name.
    pub name: String,
    /// Further details, as string maps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<Vec<BTreeMap<String, String>>>,
    /// The service's error code.
    pub code: i32,
    /// A URI naming the problem type (json `type`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub problem_type: Option<String>,
    /// A short summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What went wrong this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A URI naming this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

impl LusidProblemDetails {
    /// The service's error code, by name ([`ErrorCode::Other`] for a number
    /// it does not document).
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from(self.code)
    }
}

/// The body of a 400: the problem plus the messages of each invalid field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LusidValidationProblemDetails {
    /// The problem's common fields (flattened: they travel at the top level).
    #[serde(flatten)]
    pub problem: LusidProblemDetails,
    /// Field name (camelCase, as in the contract) -> messages.
    #[serde(default)]
    pub errors: BTreeMap<String, Vec<String>>,
}
