//! The Users operations of the FINBOURNE Identity service, over any tower
//! `Service`.
//!
//! [`UsersApi`] builds each call as an `http::Request<Bytes>` (the path
//! percent-encoded segment by segment, the query, the JSON body, and the
//! operation's [`OperationInfo`] and the caller's [`RequestOptions`] in its
//! extensions), sends it through the
//! service it was given, and decodes the answer into the operation's typed
//! result or an [`Error`] that keeps all the service said.
//!
//! It does not depend on the transport or the auth crates: the service may
//! be the full stack of `finbourne-identity`, a stack of your own, or a test
//! double. Each of the operations is one row of a table in [`operation`],
//! and runs through the one generic [`Call`].
//!
//! ```
//! use bytes::Bytes;
//! use identity_users::{BaseUrl, UsersApi};
//!
//! # async fn example() -> Result<(), identity_users::Error> {
//! // Any Service<http::Request<Bytes>, Response = http::Response<impl Body>>.
//! let service = tower::service_fn(|request: http::Request<Bytes>| async move {
//!     assert_eq!(request.uri(), "https://acme.lusid.com/identity/api/users/00u1?includeRoles=true");
//!     let user = r#"{"id":"00u1","emailAddress":"ann@example.com","login":"ann@example.com",
//!         "firstName":"Ann","lastName":"Lee","type":"Personal","status":"ACTIVE","external":false}"#;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(Bytes::from(user))))
//! });
//! let users = UsersApi::new(service, BaseUrl::parse("https://acme.lusid.com/identity")?);
//! let user = users.get_user("00u1").include_roles(true).send().await?;
//! assert_eq!(user.first_name, "Ann");
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(example()).unwrap();
//! ```

mod already;
mod api;
mod array;
mod base_url;
mod call;
pub mod decode;
mod encode;
mod error;
mod find;
pub mod operation;
mod settle;
mod stream;

pub use api::UsersApi;
pub use base_url::BaseUrl;
pub use call::Call;
pub use error::{ApiError, BoxError, Error, MAX_ERROR_BODY_BYTES, Problem};
pub use find::{FindUsers, MAX_IDS_PER_REQUEST};
pub use identity_call::{InvalidCorrelationId, OperationInfo, REQUEST_ID_HEADER, RequestOptions};
/// What [`ApiError::code`] answers: the service's error codes by name.
pub use identity_models::ErrorCode;
pub use settle::SettleCreateUser;
pub use stream::MAX_STREAMED_USER_BYTES;
