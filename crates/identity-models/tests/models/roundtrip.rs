//! Property tests: every model type survives serialise -> deserialise
//! unchanged, and writing the decoded value gives the same JSON again (which
//! also checks that datetime offsets, not only instants, are kept).

use std::fmt::Debug;

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::support;

/// Writes `value`, reads it back, and checks both the value and its JSON.
fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(value)
        .map_err(|error| TestCaseError::fail(format!("serialise: {error}")))?;
    let back: T = serde_json::from_str(&json)
        .map_err(|error| TestCaseError::fail(format!("deserialise {json}: {error}")))?;
    prop_assert_eq!(&back, value);
    let again = serde_json::to_string(&back)
        .map_err(|error| TestCaseError::fail(format!("serialise again: {error}")))?;
    prop_assert_eq!(again, json);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn user_status(value in support::user_status()) { round_trip(&value)?; }

    #[test]
    fn user_type(value in support::user_type()) { round_trip(&value)?; }

    #[test]
    fn role_id(value in support::role_id()) { round_trip(&value)?; }

    #[test]
    fn role_response(value in support::role_response()) { round_trip(&value)?; }

    #[test]
    fn link(value in support::link()) { round_trip(&value)?; }

    #[test]
    fn user_response(value in support::user_response()) { round_trip(&value)?; }

    #[test]
    fn create_user_request(value in support::create_user_request()) { round_trip(&value)?; }

    #[test]
    fn update_user_request(value in support::update_user_request()) { round_trip(&value)?; }

    #[test]
    fn user_summary(value in support::user_summary()) { round_trip(&value)?; }

    #[test]
    fn error_detail(value in support::error_detail()) { round_trip(&value)?; }

    #[test]
    fn list_users_response(value in support::list_users_response()) { round_trip(&value)?; }

    #[test]
    fn temporary_password(value in support::temporary_password()) { round_trip(&value)?; }

    #[test]
    fn user_schema_property(value in support::user_schema_property()) { round_trip(&value)?; }

    #[test]
    fn user_schema_response(value in support::user_schema_response()) { round_trip(&value)?; }

    #[test]
    fn update_user_schema_request(value in support::update_user_schema_request()) {
        round_trip(&value)?;
    }

    #[test]
    fn problem_details(value in support::problem_details()) { round_trip(&value)?; }

    #[test]
    fn validation_problem_details(value in support::validation_problem_details()) {
        round_trip(&value)?;
    }

    /// Nanosecond precision and the offset both survive, through a model field.
    #[test]
    fn datetime_precision_and_offset(at in support::datetime()) {
        let request = identity_models::UpdateUserRequest::new("A", "Bb", "a@b.cd", "a@b.cd")
            .with_user_expiry(at);
        let json = serde_json::to_string(&request)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        let back: identity_models::UpdateUserRequest = serde_json::from_str(&json)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        let expiry = back.user_expiry.ok_or_else(|| TestCaseError::fail("expiry lost"))?;
        prop_assert_eq!(expiry, at);
        prop_assert_eq!(expiry.offset(), at.offset());
        prop_assert_eq!(expiry.nanosecond(), at.nanosecond());
    }
}
