//! The benchmark's server: answers fixed bodies as fast as hyper can, so
//! that what the figures measure is the clients.
//!
//! It runs on the clients' runtime (see the [module docs](super)); its
//! futures run inside [`Uncounted`], so that the counting allocator never
//! charges its allocations to a client.
//!
//! Routes (under the base URL `http://127.0.0.1:PORT/identity`):
//! `GET /api/users/{id}` one user; `GET /api/users` the list of users;
//! `GET /api/directory?id=..` FindUsersById for the ids asked; and
//! `POST /oauth2/token` a token endpoint that counts its requests, answers
//! after [`TOKEN_DELAY`] with a token valid for [`TOKEN_TTL_SECONDS`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::alloc::Uncounted;
use super::fixtures;

/// How long the token endpoint takes to answer: long enough that calls
/// pile up behind one fetch, as they do behind a real identity provider.
pub(crate) const TOKEN_DELAY: Duration = Duration::from_millis(50);

/// How long the tokens of the token endpoint are valid.
pub(crate) const TOKEN_TTL_SECONDS: u64 = 2;

const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const REQUEST_ID: HeaderValue = HeaderValue::from_static("2024111809412700000:00000000abcdef");

/// The fixed answers, and the count of token requests.
struct Answers {
    get_user: Bytes,
    list_users: Bytes,
    token_requests: AtomicU64,
}

/// The running server (it runs until its runtime ends); cheap to clone.
#[derive(Clone)]
pub(crate) struct BenchServer {
    addr: SocketAddr,
    answers: Arc<Answers>,
}

impl BenchServer {
    /// Starts the server on this runtime, with a list of `list_size` users.
    pub(crate) async fn start(list_size: usize) -> Result<Self, String> {
        let answers = Arc::new(Answers {
            get_user: fixtures::get_user_body()?,
            list_users: fixtures::list_users_body(list_size)?,
            token_requests: AtomicU64::new(0),
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("could not bind the benchmark server: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("the benchmark server has no address: {e}"))?;
        tokio::spawn(Uncounted::new(accept(listener, Arc::clone(&answers))));
        Ok(Self { addr, answers })
    }

    /// The base URL of the Identity API it serves.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/identity", self.addr)
    }

    /// The URL of its token endpoint.
    pub(crate) fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
    }

    /// The size of the ListUsers answer, in bytes.
    pub(crate) fn list_body_len(&self) -> usize {
        self.answers.list_users.len()
    }

    /// The size of the GetUser answer, in bytes.
    pub(crate) fn user_body_len(&self) -> usize {
        self.answers.get_user.len()
    }

    /// Token requests answered so far.
    pub(crate) fn token_requests(&self) -> u64 {
        self.answers.token_requests.load(Ordering::SeqCst)
    }
}

async fn accept(listener: TcpListener, answers: Arc<Answers>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Failing to set it only costs latency.
        let _ = stream.set_nodelay(true);
        let answers = Arc::clone(&answers);
        tokio::spawn(Uncounted::new(async move {
            let service = service_fn(move |request| answer(Arc::clone(&answers), request));
            // A client closing its connection is not an error of the bench.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }));
    }
}

async fn answer(
    answers: Arc<Answers>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let route = match (request.method(), request.uri().path()) {
        (&Method::GET, "/identity/api/users") => Route::ListUsers,
        (&Method::GET, "/identity/api/directory") => Route::FindUsers,
        (&Method::GET, path) if path.starts_with("/identity/api/users/") => Route::GetUser,
        (&Method::POST, "/oauth2/token") => Route::Token,
        _ => Route::NotFound,
    };
    let body = match route {
        Route::GetUser => answers.get_user.clone(),
        Route::ListUsers => answers.list_users.clone(),
        Route::FindUsers => {
            let query = request.uri().query().unwrap_or("");
            let ids: Vec<String> = form_urlencoded::parse(query.as_bytes())
                .filter(|(name, _)| name == "id")
                .map(|(_, id)| id.into_owned())
                .collect();
            fixtures::find_users_body(&ids)
        }
        Route::Token => {
            // The form is not checked: any client of the bench gets a token.
            let _ = request.into_body().collect().await;
            let number = answers.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(TOKEN_DELAY).await;
            Bytes::from(format!(
                r#"{{"access_token":"bench-token-{number}","token_type":"Bearer","expires_in":{TOKEN_TTL_SECONDS},"refresh_token":"bench-refresh-{number}","scope":"openid"}}"#
            ))
        }
        Route::NotFound => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            return Ok(response);
        }
    };
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, JSON);
    headers.insert("lusid-meta-requestid", REQUEST_ID);
    Ok(response)
}

/// What a request asks for.
enum Route {
    GetUser,
    ListUsers,
    FindUsers,
    Token,
    NotFound,
}
