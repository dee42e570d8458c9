//! The generic rules (lengths, counts, character sets) and their messages,
//! worded as the service words its 400s. Lengths count characters, not bytes.

use super::ValidationErrors;

/// Records a violation unless `value` has `min..=max` characters.
pub(super) fn length_between(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) {
    let length = value.chars().count();
    if !(min..=max).contains(&length) {
        errors.add(
            field,
            format!(
                "The field {} must be between {min} and {max} characters long.",
                leaf(field)
            ),
        );
    }
}

/// Records a violation if `value` has more than `max` characters.
pub(super) fn length_at_most(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.add(
            field,
            format!(
                "The field {} must be at most {max} characters long.",
                leaf(field)
            ),
        );
    }
}

/// Records a violation if a list has more than `max` items.
pub(super) fn items_at_most(errors: &mut ValidationErrors, field: &str, count: usize, max: usize) {
    if count > max {
        errors.add(
            field,
            format!("The field {} must have at most {max} items.", leaf(field)),
        );
    }
}

/// Records a violation unless every character of `value` passes `allowed`;
/// `pattern` is the contract's regular expression, quoted in the message.
pub(super) fn matches_pattern(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    pattern: &str,
    allowed: impl Fn(char) -> bool,
) {
    if !value.chars().all(allowed) {
        errors.add(
            field,
            format!(
                "The field {} must match the regular expression '{pattern}'.",
                leaf(field)
            ),
        );
    }
}

/// The last segment of a field path (`alternativeUserIds[0].name` -> `name`),
/// as the service names the field in its messages.
fn leaf(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}
