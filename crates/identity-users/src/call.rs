//! One call of one operation: the request it builds, the service it goes
//! through, the answer it decodes. Written once for every operation.
//!
//! A [`Call`] is a builder. The operation's required inputs were given when
//! it was made (`api.get_user("00u1")`); the optional ones are named methods
//! of that operation's call (`.include_roles(true)`); every call takes
//! `.options(RequestOptions)` and ends in `.send().await`.

use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{Request, Response};
use http_body::Body;
use http_body_util::BodyExt;
use identity_call::{
    CredentialSent, Deadline, ReplayedAfterUnknownOutcome, RequestOptions, StreamedAnswer,
};
use tower_service::Service;

use crate::UsersApi;
use crate::already::confirmed;
use crate::base_url::Origin;
use crate::decode::{BodyDecoder, Decode, shown};
use crate::encode::push_query_pair;
use crate::error::{ApiError, BoxError, Error, MAX_ERROR_BODY_BYTES, SNIPPET_BYTES, snippet};
use crate::operation::{CreateUser, DeleteUser, GetUser, ListUsers, Operation, PathTemplate};

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A call of the operation `O` through the service `S`, ready to send.
#[must_use = "a call does nothing until it is sent: `.send().await`"]
pub struct Call<S, O, E = Error> {
    service: S,
    origin: Origin,
    /// The path (the base path, then the operation's, its parameter
    /// encoded), or why the parameter was refused (reported by `send`).
    path: Result<String, Error>,
    query: String,
    body: Option<Result<Bytes, serde_json::Error>>,
    options: Option<RequestOptions>,
    /// Whether the answer is read as a stream of elements.
    pub(crate) streamed: bool,
    operation: PhantomData<fn() -> (O, E)>,
}

impl<S: Clone, O: Operation, E> Call<S, O, E> {
    /// A call of `O`, with `parameter` (what it is, and its value) for the
    /// operation's path parameter, if it has one.
    pub(crate) fn new(api: &UsersApi<S, E>, parameter: Option<(&'static str, &str)>) -> Self {
        let template = const { PathTemplate::of(O::INFO.path_template()) };
        Self {
            service: api.service.clone(),
            origin: api.base_url.origin(),
            path: template.path(api.base_url.prefix(), parameter),
            query: String::new(),
            body: None,
            options: None,
            streamed: false,
            operation: PhantomData,
        }
    }
}

impl<S, O: Operation, E> Call<S, O, E> {
    pub(crate) fn json_body(mut self, body: &impl serde::Serialize) -> Self {
        self.body = Some(serde_json::to_vec(body).map(Bytes::from));
        self
    }

    pub(crate) fn query(mut self, name: &str, value: &str) -> Self {
        push_query_pair(&mut self.query, name, value);
        self
    }

    fn flag(self, name: &str, value: bool) -> Self {
        self.query(name, if value { "true" } else { "false" })
    }

    /// Per-call overrides of the client's timeouts, retries and
    /// idempotency, read by the layers of the stack.
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// The HTTP request this call sends, without sending it.
    pub fn into_request(self) -> Result<(S, Request<Bytes>), Error> {
        let operation = O::INFO;
        let mut path_and_query = self.path?;
        if !self.query.is_empty() {
            path_and_query.push('?');
            path_and_query.push_str(&self.query);
        }
        let uri = self.origin.uri(path_and_query)?;
        let body = match self.body {
            Some(body) => Some(body.map_err(|source| Error::Serialize {
                operation: operation.name(),
                source,
            })?),
            None => None,
        };
        let has_body = body.is_some();
        let mut request = Request::new(body.unwrap_or_default());
        *request.method_mut() = O::METHOD;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(ACCEPT, JSON);
        if has_body {
            headers.insert(CONTENT_TYPE, JSON);
        }
        operation.set_on(&mut request);
        if let Some(options) = self.options {
            options.set_on(&mut request);
        }
        if self.streamed {
            StreamedAnswer::set_on(&mut request);
        }
        Ok((self.service, request))
    }
}

impl<S, O, B, E> Call<S, O, E>
where
    O: Operation,
    E: From<Error>,
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Sends the call and decodes the answer.
    ///
    /// Any 2xx answer is a success (the contract says 200 or 204; older
    /// documents say 201); any other status is an [`Error::Api`] with the
    /// problem details the service sent. The body is decoded as it arrives
    /// (a list element by element), so a large answer is never held twice.
    ///
    /// When the stack replayed the call after an attempt the service may
    /// have processed, a refusal that says "already in the state this call
    /// asked for" is that attempt's success, and is reported as one: a 706
    /// (not locked out) to UnlockUser or a 717 (status invalid) to
    /// UnsuspendUser once a GetUser finds the user `ACTIVE`, a 404 to
    /// DeleteUser.
    pub async fn send(self) -> Result<O::Output, E> {
        let name = O::INFO.name();
        let (parts, body) = match self.respond().await? {
            Answer::Success(parts, body) => (parts, body),
            Answer::AlreadyDone => {
                let decoder = <O::Output as Decode>::Decoder::default();
                return decoder.finish().map_err(|source| {
                    E::from(Error::Decode {
                        operation: name,
                        status: http::StatusCode::NO_CONTENT,
                        snippet: String::new(),
                        source: shown::<O::Output>(source),
                    })
                });
            }
        };
        let mut body = std::pin::pin!(body);
        let mut decoder = <O::Output as Decode>::Decoder::default();
        if let Some(length) = body.size_hint().exact() {
            decoder.expect_bytes(length);
        }
        let mut head = Bytes::new();
        let decode_error = |head: &Bytes, source| Error::Decode {
            operation: name,
            status: parts.status,
            snippet: if <O::Output as Decode>::QUOTABLE {
                snippet(head)
            } else {
                String::from("[withheld: the answer holds a secret]")
            },
            source: shown::<O::Output>(source),
        };
        while let Some(chunk) = next_chunk(name, parts.status, body.as_mut()).await? {
            if head.is_empty() {
                head = chunk.slice(..chunk.len().min(SNIPPET_BYTES));
            }
            decoder
                .push(chunk)
                .map_err(|source| decode_error(&head, source))?;
        }
        decoder
            .finish()
            .map_err(|source| E::from(decode_error(&head, source)))
    }

    /// Sends the call: an answer with a success status comes back as its
    /// head and unread body; any other is read into an [`Error::Api`] (up
    /// to [`MAX_ERROR_BODY_BYTES`] of its body: the rest is neither read
    /// nor waited for), unless it is the operation's "already done" refusal
    /// to a replay. What [`send`](Self::send) and the streams start with.
    pub(crate) async fn respond(self) -> Result<Answer<B>, Error> {
        let name = O::INFO.name();
        // Only the operations with an "already done" refusal keep what a
        // GetUser of the same user needs.
        let check = O::ALREADY_DONE.map(|rule| (rule, self.user_uri(), self.options.clone()));
        let (mut service, request) = self.into_request()?;
        poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(service_failed::<S>(name))?;
        let response = service
            .call(request)
            .await
            .map_err(service_failed::<S>(name))?;
        let (parts, body) = response.into_parts();
        if parts.status.is_success() {
            return Ok(Answer::Success(parts, body));
        }
        let replayed = parts
            .extensions
            .get::<ReplayedAfterUnknownOutcome>()
            .is_some();
        let deadline = parts.extensions.get::<Deadline>().copied();
        let body = collect_prefix(
            name,
            parts.status,
            std::pin::pin!(body),
            MAX_ERROR_BODY_BYTES,
        )
        .await?;
        let credential = parts.extensions.get::<CredentialSent>().cloned();
        let mut error = ApiError::new(name, parts.status, parts.headers, body);
        error.after_unknown_outcome = replayed;
        error.credential = credential;
        if replayed
            && let Some((rule, user, options)) = check
            && rule.is(&error)
            && confirmed(&rule, &mut service, user, options, deadline).await
        {
            tracing::info!(
                operation = name,
                status = error.status.as_u16(),
                "the replayed call found its earlier attempt done: reported as a success"
            );
            return Ok(Answer::AlreadyDone);
        }
        Err(error.into())
    }
}

/// What a call's answer came to.
pub(crate) enum Answer<B> {
    /// A success status: the head, and the body still to read.
    Success(http::response::Parts, B),
    /// The operation's "already done" refusal to a replay: the earlier
    /// attempt's success.
    AlreadyDone,
}

impl<S, O: Operation, E> Call<S, O, E> {
    /// The URL of the user a call is about (the path up to its `{id}`), for
    /// a GetUser that confirms an "already done" refusal.
    fn user_uri(&self) -> Option<http::Uri> {
        let PathTemplate::Parameter { after, .. } = PathTemplate::of(O::INFO.path_template())
        else {
            return None;
        };
        let path = self.path.as_ref().ok()?.strip_suffix(after)?;
        self.origin.clone().uri(path.to_owned()).ok()
    }
}

/// The error of a call whose service failed to answer.
fn service_failed<S>(operation: &'static str) -> impl Fn(S::Error) -> Error
where
    S: Service<Request<Bytes>>,
    S::Error: Into<BoxError>,
{
    move |source| Error::Service {
        operation,
        source: source.into(),
    }
}

/// Reads a body up to `limit` bytes and stops there: what lies beyond is
/// neither read nor kept, and the caller drops the body (and with it the
/// connection). Nothing is reserved on the word of the body's declared
/// length.
pub(crate) async fn collect_prefix<B>(
    operation: &'static str,
    status: http::StatusCode,
    body: Pin<&mut B>,
    limit: usize,
) -> Result<Bytes, Error>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let mut body = body;
    let mut collected = BytesMut::new();
    while collected.len() < limit {
        let Some(chunk) = next_chunk(operation, status, body.as_mut()).await? else {
            break;
        };
        let room = limit - collected.len();
        collected.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(collected.freeze())
}

/// The next chunk of data of a body (trailers are skipped), or `None` at
/// its end.
pub(crate) async fn next_chunk<B>(
    operation: &'static str,
    status: http::StatusCode,
    mut body: Pin<&mut B>,
) -> Result<Option<Bytes>, Error>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    loop {
        match body.frame().await {
            None => return Ok(None),
            Some(Err(source)) => {
                return Err(Error::Body {
                    operation,
                    status,
                    source: source.into(),
                });
            }
            Some(Ok(frame)) => {
                if let Ok(mut data) = frame.into_data() {
                    let remaining = data.remaining();
                    return Ok(Some(data.copy_to_bytes(remaining)));
                }
            }
        }
    }
}

impl<S, E> Call<S, GetUser, E> {
    /// Fills the `roles` of the answer (`includeRoles`).
    pub fn include_roles(self, include: bool) -> Self {
        self.flag("includeRoles", include)
    }
}

impl<S, E> Call<S, DeleteUser, E> {
    /// Removes every trace of the user instead of de-provisioning it (`purge`).
    pub fn purge(self, purge: bool) -> Self {
        self.flag("purge", purge)
    }
}

impl<S, E> Call<S, ListUsers, E> {
    /// Also lists the users deleted without purge (`includeDeactivated`).
    pub fn include_deactivated(self, include: bool) -> Self {
        self.flag("includeDeactivated", include)
    }
}

impl<S, E> Call<S, CreateUser, E> {
    /// Answers only once the new user is visible in ListUsers (`waitForReindex`).
    pub fn wait_for_reindex(self, wait: bool) -> Self {
        self.flag("waitForReindex", wait)
    }
}
