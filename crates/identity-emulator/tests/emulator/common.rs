//! A plain HTTP client (hyper-util's legacy client, no retries; its pool's
//! idle timer on tokio's clock)
//! and an emulator started for one test.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use identity_emulator::{Emulator, EmulatorConfig, SDK_POOL_IDLE_TIMEOUT};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The static token every test emulator accepts.
pub const TOKEN: &str = "test-token";

/// An answer, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn value(&self) -> Value {
        self.json()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `code` of a problem body.
    pub fn code(&self) -> i64 {
        self.value()["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no code in {:?}", self.body))
    }

    /// The field names of a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.value()["errors"]
            .as_object()
            .map(|errors| errors.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// A request to send.
pub struct Call {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Call {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(self, body: &Value) -> Self {
        self.raw_body("application/json", body.to_string())
    }

    pub fn raw_body(self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.body(body).header("content-type", content_type)
    }

    /// A body without a `Content-Type`.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The HTTP request, for a client of the test's own.
    pub fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
            .body(Full::new(self.body.clone()))
            .expect("a valid request")
    }
}

/// A plain client.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Http {
    /// An HTTP/1.1 client whose pool drops a connection idle for 90 s, on
    /// tokio's clock, as the SDK's does: a test that moves paused time past
    /// the emulator's idle timeout (120 s) gets a new connection, as a
    /// client would, rather than one the emulator has closed.
    pub fn http1() -> Self {
        let client = Client::builder(TokioExecutor::new())
            .retry_canceled_requests(false)
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(SDK_POOL_IDLE_TIMEOUT)
            .build_http();
        Self { client }
    }

    pub fn http2() -> Self {
        let client = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(SDK_POOL_IDLE_TIMEOUT)
            .build_http();
        Self { client }
    }

    /// Sends `call`; `Err` when the connection failed or was closed.
    pub async fn try_send(&self, call: &Call) -> Result<Reply, String> {
        let response = self
            .client
            .request(call.request())
            .await
            .map_err(|error| format!("{error:?}"))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|error| format!("{error:?}"))?
            .to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    pub async fn send(&self, call: Call) -> Reply {
        self.try_send(&call)
            .await
            .unwrap_or_else(|error| panic!("{} {}: {error}", call.method, call.url))
    }
}

/// An emulator with the static token [`TOKEN`], and a client for it.
pub struct TestEmulator {
    pub emulator: Emulator,
    pub http: Http,
}

impl TestEmulator {
    pub async fn start() -> Self {
        Self::with(EmulatorConfig::default()).await
    }

    pub async fn with(mut config: EmulatorConfig) -> Self {
        config.access_tokens.push(TOKEN.to_owned());
        let emulator = identity_emulator::start(config)
            .await
            .expect("the emulator starts");
        Self {
            emulator,
            http: Http::http1(),
        }
    }

    /// `<base>/api/<path>` (path with its query), with the static token.
    pub fn api(&self, method: Method, path: &str) -> Call {
        Call::new(method, format!("{}/api/{path}", self.emulator.base_url())).bearer(TOKEN)
    }

    /// `<root>/_emulator/<path>`, without a token.
    pub fn hook(&self, method: Method, path: &str) -> Call {
        Call::new(
            method,
            format!("{}/_emulator/{path}", self.emulator.root_url()),
        )
    }

    pub async fn send(&self, call: Call) -> Reply {
        self.http.send(call).await
    }

    /// Creates a Personal user through the API and answers its JSON.
    pub async fn create_personal(&self, email: &str) -> Value {
        let reply = self
            .send(self.api(Method::POST, "users").json(&personal(email)))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.value()
    }

    /// Creates a Service user through the API and answers its JSON.
    pub async fn create_service(&self, login: &str) -> Value {
        let body = serde_json::json!({
            "firstName": "Build", "lastName": "Bot", "emailAddress": "ops@example.com",
            "login": login, "type": "Service",
        });
        let reply = self.send(self.api(Method::POST, "users").json(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.value()
    }

    /// Sets a user's status through the hook.
    pub async fn set_status(&self, id: &str, status: &str) {
        let call = self
            .hook(Method::PUT, &format!("users/{id}/status"))
            .json(&serde_json::json!({ "status": status }));
        assert_eq!(self.send(call).await.status, StatusCode::NO_CONTENT);
    }
}

/// A valid CreateUserRequest body of a Personal user.
pub fn personal(email: &str) -> Value {
    serde_json::json!({
        "firstName": "Ada", "lastName": "Lovelace", "emailAddress": email, "login": email, "type": "Personal",
    })
}

/// The `id` of a user's JSON.
pub fn id_of(user: &Value) -> String {
    user["id"].as_str().expect("an id").to_owned()
}

/// How long a test may wait for something that happens at once in practice.
pub const PATIENCE: Duration = Duration::from_secs(5);
