//! [`ValidationErrors`]: every rule a request breaks, by contract field name.

use std::collections::BTreeMap;
use std::fmt;

/// The violations found in a request: contract field name (camelCase, e.g.
/// `"firstName"`, `"roles"`, `"alternativeUserIds[0].name"`) -> messages,
/// worded as the service words them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation of `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors
            .entry(field.into())
            .or_default()
            .push(message.into());
    }

    /// Whether no violation was found.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many fields have violations.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The names of the fields with violations, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.errors.keys().map(String::as_str)
    }

    /// The messages for `field`, if it has any.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.errors.get(field).map(Vec::as_slice)
    }

    /// Each field with its messages, in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.errors
            .iter()
            .map(|(field, messages)| (field.as_str(), messages.as_slice()))
    }

    /// The map field name -> messages, as a 400's `errors` member carries it.
    pub fn into_map(self) -> BTreeMap<String, Vec<String>> {
        self.errors
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request is invalid:")?;
        for (field, messages) in &self.errors {
            for message in messages {
                write!(f, " {field}: {message}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
