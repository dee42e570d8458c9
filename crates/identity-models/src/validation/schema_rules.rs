//! The rules of UpdateUserSchemaRequest.

use super::ValidationErrors;
use super::rules::{items_at_most, length_at_most, length_between, matches_pattern};
use crate::UpdateUserSchemaRequest;

/// The most properties a user schema may define.
const MAX_PROPERTIES: usize = 10;

impl UpdateUserSchemaRequest {
    /// Checks the request against the contract's limits, returning every
    /// violation at once: at most 10 properties; each name 1-50 characters of
    /// `[A-Za-z0-9_]`, each description at most 80 characters. Fields are
    /// named like `alternativeUserIds[2].name`.
    ///
    /// ```
    /// use identity_models::{UpdateUserSchemaRequest, UserSchemaProperty};
    /// let request = UpdateUserSchemaRequest::new(vec![
    ///     UserSchemaProperty::new("employee_no", "HR number"),
    ///     UserSchemaProperty::new("bad name", "spaces are not allowed"),
    /// ]);
    /// let errors = request.validate().unwrap_err();
    /// assert!(errors.get("alternativeUserIds[1].name").is_some());
    /// ```
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let properties = &self.alternative_user_ids;
        items_at_most(
            &mut errors,
            "alternativeUserIds",
            properties.len(),
            MAX_PROPERTIES,
        );
        for (index, property) in properties.iter().enumerate() {
            let name_field = format!("alternativeUserIds[{index}].name");
            length_between(&mut errors, &name_field, &property.name, 1, 50);
            matches_pattern(
                &mut errors,
                &name_field,
                &property.name,
                "^[a-zA-Z0-9_]+$",
                |c| c.is_ascii_alphanumeric() || c == '_',
            );
            let description_field = format!("alternativeUserIds[{index}].description");
            length_at_most(&mut errors, &description_field, &property.description, 80);
        }
        errors.into_result()
    }
}
