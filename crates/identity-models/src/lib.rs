//! Serde types of the FINBOURNE Identity Users API: the request and response
//! bodies of the contract, with client-side validation. No I/O, no async, no
//! HTTP types: the transport and the users client build on these.
//!
//! ```
//! use identity_models::{CreateUserRequest, RoleId, UserResponse, UserStatus, UserType};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Build a request: a Personal user's login is its email address.
//! let request = CreateUserRequest::personal("Ada", "Lovelace", "ada@example.com")
//!     .with_role(RoleId::new("default", "analyst"));
//! // Check it against the contract's limits before sending it.
//! request.validate()?;
//! let body = serde_json::to_string(&request)?;
//! assert!(body.contains(r#""login":"ada@example.com""#));
//! assert!(body.contains(r#""type":"Personal""#));
//! assert!(!body.contains("userExpiry")); // None fields are left out
//!
//! // Decode an answer: unknown fields are ignored, unknown statuses kept.
//! let user: UserResponse = serde_json::from_str(
//!     r#"{"id":"00u1","emailAddress":"ada@example.com","login":"ada@example.com",
//!         "firstName":"Ada","lastName":"Lovelace","type":"Personal",
//!         "status":"PROVISIONED","external":false,
//!         "created":"2024-03-01T09:30:12.1234567+00:00","newField":1}"#,
//! )?;
//! assert_eq!(user.status, UserStatus::Provisioned);
//! assert_eq!(user.user_type, UserType::Personal);
//! assert_eq!(user.created.map(|at| at.nanosecond()), Some(123_456_700));
//! # Ok(())
//! # }
//! ```
//!
//! # Conventions
//!
//! - Field names travel in the contract's camelCase; the JSON `type` field is
//!   `user_type`, `error_type` or `problem_type` in Rust.
//! - Every optional field is an `Option`: absent and `null` both read as
//!   `None`, and `None` is left out when writing. A missing required field
//!   fails with serde's error naming it. Unknown fields are ignored.
//! - [`UserStatus`] and [`UserType`] keep values they do not know in
//!   `Other(String)` and write them back unchanged.
//! - [`TemporaryPassword`]'s `Debug` output hides the password.
//! - The service's error codes have names: [`ErrorCode`] (`658` is
//!   [`ErrorCode::UserAlreadyExists`]), keeping any other number.
//!
//! # Datetimes
//!
//! Datetimes are [`time::OffsetDateTime`], read from RFC 3339 with any offset
//! (`Z`, `+00:00`, `+05:30`) and up to nine fractional digits (the .NET
//! service sends seven), and written as RFC 3339 with their offset. The
//! `time` crate rather than chrono: it is smaller, has RFC 3339 parsing and
//! formatting with offsets built in, and its `OffsetDateTime` carries an
//! explicit offset, with none of the local-timezone pitfalls.
//!
//! # Validation
//!
//! [`CreateUserRequest::validate`], [`UpdateUserRequest::validate`] (and
//! [`UpdateUserRequest::validate_for`]) and [`UpdateUserSchemaRequest::validate`]
//! return every violation at once as [`ValidationErrors`], keyed by contract
//! field name, with the messages the service would give in a 400.
//! [`is_valid_user_id`] checks a user id before it goes into a path.

mod datetime;
mod error_code;
mod link;
mod list;
mod open_enum;
mod password;
mod problem;
mod role;
mod schema;
mod user;
mod user_requests;
mod user_status;
mod user_type;
mod validation;

pub use error_code::ErrorCode;
pub use link::Link;
pub use list::{ErrorDetail, ListUsersResponse, UserSummary};
pub use password::TemporaryPassword;
pub use problem::{LusidProblemDetails, LusidValidationProblemDetails};
pub use role::{RoleId, RoleResponse};
pub use schema::{UpdateUserSchemaRequest, UserSchemaProperty, UserSchemaResponse};
pub use user::UserResponse;
pub use user_requests::{CreateUserRequest, UpdateUserRequest};
pub use user_status::UserStatus;
pub use user_type::UserType;
pub use validation::{ValidationErrors, is_valid_user_id};
