//! The service hyper runs for each connection, around the axum router: it
//! marks the request in flight on its connection ([`crate::connections`])
//! until its answer is sent, writes the request log on stderr when
//! `RUST_LOG` asks for it (one line per request at `info`, target
//! `identity_emulator::requests`), names the request id, refuses requests
//! for another host or from another web origin ([`crate::guard`]) before
//! anything else sees them, checks an API request's bearer token, records
//! the request in the log (with its 401 when the token was refused),
//! applies the fault rules, and renders problem bodies.
//!
//! Closing a connection without answering is done the hyper way: the service
//! returns an `Err`, and hyper drops the connection (HTTP/1.1) or resets the
//! stream (HTTP/2) instead of writing a response. "Close after processing"
//! runs the router first, so the call's change is made (and on disk), then
//! returns the `Err`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use http::header::{HOST, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tower::ServiceExt as _;

use crate::RecordedRequest;
use crate::connections::{ConnectionWatch, InFlight};
use crate::faults::Fault;
use crate::guard::RequestGuard;
use crate::log::EntryId;
use crate::operations::{TOKEN_OPERATION, classify, is_api, is_hook, route_of};
use crate::problems::{ApiError, RequestContext, render_pending_problem};
use crate::routes::users::CreatedLogin;
use crate::shared::{AppState, lock};

/// The response header carrying the request id.
const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("lusid-meta-requestid");

/// Characters of ASP.NET connection ids (base 32).
const CONNECTION_ID_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";

/// The error that makes hyper drop the connection instead of answering.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by an injected fault")]
pub(crate) struct ConnectionClosed;

/// One connection's service (clones share the connection's request counter).
#[derive(Clone)]
pub(crate) struct ConnectionService {
    shared: AppState,
    router: Router,
    guard: Arc<RequestGuard>,
    connection: Arc<ConnectionIds>,
    watch: Arc<ConnectionWatch>,
}

/// Request ids in ASP.NET's form, `<connection id>:<request number>`
/// (`0HN4ALD8RT0QJ:00000002`).
pub(crate) struct ConnectionIds {
    id: String,
    requests: AtomicU32,
}

impl ConnectionIds {
    pub(crate) fn new() -> Self {
        let id = std::iter::once('0')
            .chain(std::iter::repeat_with(|| {
                char::from(CONNECTION_ID_ALPHABET[fastrand::usize(..CONNECTION_ID_ALPHABET.len())])
            }))
            .take(13)
            .collect();
        Self {
            id,
            requests: AtomicU32::new(0),
        }
    }

    pub(crate) fn next_request_id(&self) -> String {
        let number = self
            .requests
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        format!("{}:{number:08X}", self.id)
    }
}

impl ConnectionService {
    pub(crate) fn new(
        shared: AppState,
        router: Router,
        guard: Arc<RequestGuard>,
        watch: Arc<ConnectionWatch>,
    ) -> Self {
        Self {
            shared,
            router,
            guard,
            connection: Arc::new(ConnectionIds::new()),
            watch,
        }
    }

    async fn handle(self, request: Request<Incoming>) -> Result<Response, ConnectionClosed> {
        let request_id = self.connection.next_request_id();
        if let Err(refusal) = self.guard.check(request.uri(), request.headers()) {
            refusal.log(request.method(), request.uri().path());
            // The problem's links name the emulator's own address, not the
            // host the request named.
            let context = RequestContext {
                request_id,
                host: self.guard.own_host(),
            };
            let response = refusal.problem(&context.host).render(&context);
            return Ok(with_request_id(response, &context));
        }
        let context = RequestContext {
            request_id,
            host: host_of(&request),
        };
        if is_hook(request.uri().path()) {
            return Ok(self.route(request, &context).await);
        }
        let operation = classify(request.method(), request.uri().path());
        // The token first: a request without a valid one is logged with its
        // 401 and goes no further (no fault, no route, its body unread).
        let refused = if is_api(request.uri().path()) {
            crate::auth::bearer_refusal(&self.shared, request.headers())
        } else {
            None
        };
        let (parts, body) = request.into_parts();
        let entry = self.shared.log.push(RecordedRequest::arriving(
            &parts,
            operation,
            self.shared.elapsed_ms(),
            self.shared.limits.request_log_entry_bytes,
        ));
        if let Some(refusal) = refused {
            self.shared.log.complete(entry, refusal.status().as_u16());
            return Ok(with_request_id(refusal, &context));
        }
        let request = Request::from_parts(parts, body);
        let fault = lock(&self.shared.faults).decide(operation);
        // An after-processing fault is noted with the call's own status.
        if let Some(fault) = &fault
            && !matches!(
                fault,
                Fault::CloseAfterProcessing | Fault::StatusAfterProcessing { .. }
            )
        {
            self.shared.log.faulted(entry, fault, None);
        }
        let response = match fault {
            None => self.route(request, &context).await,
            Some(Fault::Delay { ms }) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                self.route(request, &context).await
            }
            Some(Fault::Status {
                status,
                retry_after,
            }) => with_request_id(
                injected_status(operation, status, retry_after.as_deref(), &context),
                &context,
            ),
            Some(Fault::CloseBeforeProcessing) => return Err(ConnectionClosed),
            Some(fault @ Fault::CloseAfterProcessing) => {
                let processed = self.route(request, &context).await;
                self.note_created(entry, &processed);
                self.shared
                    .log
                    .faulted(entry, &fault, Some(processed.status().as_u16()));
                return Err(ConnectionClosed);
            }
            Some(fault @ Fault::StatusAfterProcessing { status }) => {
                let processed = self.route(request, &context).await;
                self.note_created(entry, &processed);
                self.shared
                    .log
                    .faulted(entry, &fault, Some(processed.status().as_u16()));
                gateway_status(status)
            }
        };
        self.note_created(entry, &response);
        self.shared.log.complete(entry, response.status().as_u16());
        Ok(response)
    }

    /// Notes on the log entry the login of a user the request created.
    fn note_created(&self, entry: EntryId, response: &Response) {
        if let Some(CreatedLogin(login)) = response.extensions().get::<CreatedLogin>() {
            self.shared.log.created(entry, login);
        }
    }

    /// Runs the router, then renders a pending problem and names the request.
    async fn route(&self, mut request: Request<Incoming>, context: &RequestContext) -> Response {
        request.extensions_mut().insert(context.clone());
        request
            .extensions_mut()
            .insert(crate::extract::BodyTimeout(self.shared.limits.head_timeout));
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        };
        with_request_id(render_pending_problem(response, context), context)
    }
}

fn with_request_id(mut response: Response, context: &RequestContext) -> Response {
    if let Ok(value) = HeaderValue::from_str(&context.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The answer of an injected status fault: a problem body (an OAuth2 error
/// on the token endpoint), `Retry-After` only when the rule gives one.
fn injected_status(
    operation: Option<&str>,
    status: u16,
    retry_after: Option<&str>,
    context: &RequestContext,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if operation == Some(TOKEN_OPERATION) {
        let mut response =
            Response::new(Body::from(crate::routes::injected_token_error_body(status)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    } else {
        ApiError::injected(status).render(context)
    };
    if let Some(value) = retry_after.and_then(|value| HeaderValue::from_str(value).ok()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// A gateway's bare answer: the status and a short text, nothing of the
/// service's own (no problem document, no request id, no `Retry-After`).
fn gateway_status(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::new(Body::from(format!("upstream answered: {status}")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    response
}

/// The host the request was sent to (`:authority` or `Host`).
fn host_of<B>(request: &Request<B>) -> String {
    request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(HOST)
                .and_then(|host| host.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The target of the request log on stderr (`RUST_LOG=identity_emulator::requests=info`).
const REQUEST_LOG_TARGET: &str = "identity_emulator::requests";

/// Handles `request`, in flight until its answer's body is dropped (sent,
/// or abandoned), and, when the request log on stderr is on, writes its
/// line: method, route template, operation, status and duration (never the
/// raw path, a query, a header or a body).
async fn handle_and_log(
    service: ConnectionService,
    request: Request<Incoming>,
    in_flight: InFlight,
) -> Result<Response, ConnectionClosed> {
    let answer = log_request(service, request).await;
    answer.map(|response| {
        response.map(|body| {
            Body::new(body.map_frame(move |frame| {
                let _in_flight = &in_flight;
                frame
            }))
        })
    })
}

/// Handles `request` and writes its line on stderr, when asked.
async fn log_request(
    service: ConnectionService,
    request: Request<Incoming>,
) -> Result<Response, ConnectionClosed> {
    if !tracing::enabled!(target: REQUEST_LOG_TARGET, tracing::Level::INFO) {
        return service.handle(request).await;
    }
    let method = request.method().clone();
    let (route, operation) = route_of(&method, request.uri().path());
    let started = std::time::Instant::now();
    let result = service.handle(request).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = match &result {
        Ok(response) => response.status().as_u16().to_string(),
        Err(_) => "closed".to_owned(),
    };
    tracing::info!(
        target: REQUEST_LOG_TARGET,
        method = %method,
        route = %route,
        operation = %operation.unwrap_or("-"),
        status = %status,
        duration_ms = format_args!("{duration_ms:.2}"),
        "request"
    );
    result
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response;
    type Error = ConnectionClosed;
    type Future = Pin<Box<dyn Future<Output = Result<Response, ConnectionClosed>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.watch.request_started();
        Box::pin(handle_and_log(self.clone(), request, in_flight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_have_the_asp_net_form_and_count_up() {
        let ids = ConnectionIds::new();
        let first = ids.next_request_id();
        let second = ids.next_request_id();
        let (connection, number) = first.split_once(':').unwrap_or_default();
        assert_eq!(connection.len(), 13);
        assert!(
            connection
                .bytes()
                .all(|byte| CONNECTION_ID_ALPHABET.contains(&byte))
        );
        assert_eq!(number, "00000001");
        assert!(second.ends_with(":00000002"));
    }
}
