//! A replay that lands on its own earlier success: the refusal that says
//! "already in the state this call asked for", and the GetUser that
//! confirms it where the refusal alone is not proof.
//!
//! After an attempt the service may have processed (a dropped connection,
//! a timeout, a 5xx), the retry layer may replay an idempotent call, and
//! marks the final answer
//! [`ReplayedAfterUnknownOutcome`](identity_call::ReplayedAfterUnknownOutcome).
//! An UnlockUser whose first attempt did unlock the user is then refused
//! with 706 (not locked out): the call did what it was asked, and
//! [`Call::send`](crate::Call::send) says so.

use std::future::poll_fn;

use bytes::Bytes;
use http::header::{ACCEPT, HeaderValue};
use http::{Request, Response};
use http_body::Body;
use identity_call::{Deadline, RequestOptions};
use identity_models::UserResponse;
use tower_service::Service;

use crate::BoxError;
use crate::call::collect_prefix;
use crate::error::MAX_ERROR_BODY_BYTES;
use crate::operation::{GetUser, Operation};

pub(crate) use crate::operation::AlreadyDone;

/// Whether the refusal counts: at once when the rule needs no GetUser,
/// else when a GetUser of `user` finds the status the rule wants. Any
/// failure of that GetUser leaves the refusal standing. The GetUser is part
/// of the call: it carries the call's `deadline` (from its answer), when the
/// stack set one.
pub(crate) async fn confirmed<S, B>(
    rule: &AlreadyDone,
    service: &mut S,
    user: Option<http::Uri>,
    options: Option<RequestOptions>,
    deadline: Option<Deadline>,
) -> bool
where
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    let Some(wanted) = &rule.user_status else {
        return true;
    };
    let Some(uri) = user else {
        return false;
    };
    let mut request = Request::new(Bytes::new());
    *request.uri_mut() = uri;
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    GetUser::INFO.set_on(&mut request);
    if let Some(options) = options {
        options.set_on(&mut request);
    }
    if let Some(deadline) = deadline {
        deadline.set_on(&mut request);
    }
    if poll_fn(|cx| service.poll_ready(cx)).await.is_err() {
        return false;
    }
    let Ok(response) = service.call(request).await else {
        return false;
    };
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        return false;
    }
    let name = GetUser::INFO.name();
    // A user is a few KiB: read no more than an error body is given.
    let body = std::pin::pin!(body);
    let Ok(body) = collect_prefix(name, parts.status, body, MAX_ERROR_BODY_BYTES).await else {
        return false;
    };
    serde_json::from_slice::<UserResponse>(&body).is_ok_and(|user| &user.status == wanted)
}
