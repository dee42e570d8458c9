//! The three clients the benchmark compares, each making the same calls to
//! the same server and decoding into the same `identity-models` types:
//!
//! - `floor`: a bare hyper-util client and serde_json, the least a client
//!   can do (it collects each body, then decodes it);
//! - `sdk`: our [`IdentityClient`], its whole stack switched on (static
//!   token, SDK headers, total and attempt timeouts, retries, tracing with
//!   no subscriber);
//! - `reqwest`: what a user would write instead, reqwest's `.json()`.

use bytes::Bytes;
use finbourne_identity::layers::users::{BoxError, Error as UsersError};
use finbourne_identity::{IdentityClient, UsersApi};
use futures_util::{StreamExt, TryStreamExt, stream};
use http::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use identity_models::{ListUsersResponse, UserResponse};
use serde::de::DeserializeOwned;
use tower::Service;

/// The most ids FindUsersById takes in one request, and how many of those
/// requests run at once (the SDK's default).
const IDS_PER_REQUEST: usize = 50;
const FIND_CONCURRENCY: usize = 4;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The headers the SDK adds to every request (identity-transport's
/// `SdkHeaders`; the workspace shares one version): the floor and reqwest
/// send them too, so that the three send the same request and the server
/// does the same work for each.
const SDK_HEADERS: [(HeaderName, HeaderValue); 3] = [
    (
        USER_AGENT,
        HeaderValue::from_static(concat!(
            "finbourne-identity-rust/",
            env!("CARGO_PKG_VERSION")
        )),
    ),
    (
        HeaderName::from_static("x-lusid-sdk-language"),
        HeaderValue::from_static("Rust"),
    ),
    (
        HeaderName::from_static("x-lusid-sdk-version"),
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    ),
];

/// Which client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Floor,
    Sdk,
    Reqwest,
}

impl Kind {
    /// In the order of the table.
    pub(crate) const ALL: [Kind; 3] = [Kind::Floor, Kind::Sdk, Kind::Reqwest];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Floor => "floor",
            Kind::Sdk => "sdk",
            Kind::Reqwest => "reqwest",
        }
    }
}

/// The calls the scenarios make, each client its own way. The scenarios
/// are generic over it, so that each client's futures keep their own size
/// (an enum dispatching per call would give every client the largest).
pub(crate) trait Api: Clone + Send + Sync + 'static {
    /// GetUser.
    fn get_user(&self, id: &str) -> impl Future<Output = Result<UserResponse, String>> + Send;

    /// ListUsers, decoded into one `Vec`.
    fn list_users(&self) -> impl Future<Output = Result<Vec<UserResponse>, String>> + Send;

    /// FindUsersById of any number of ids: requests of 50 ids, 4 at a time,
    /// answers merged (the SDK does it; the others do the same by hand).
    fn find_users(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<ListUsersResponse, String>> + Send;
}

/// One of the clients, pointed at a base URL (`http://host:port/identity`).
/// Cheap to clone: clones share connections.
#[derive(Clone)]
// Made once per client and matched once per scenario: its size costs
// nothing measured, where a Box would add a pointer to follow on every call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Client {
    Floor(Floor),
    Sdk(Sdk),
    Reqwest(Plain),
}

/// Evaluates `$body` with `$api` bound to the client inside `$client`,
/// whichever it is (`$body` is compiled once per client type).
macro_rules! with_api {
    ($client:expr, $api:ident => $body:expr) => {
        match $client {
            $crate::bench::clients::Client::Floor($api) => $body,
            $crate::bench::clients::Client::Sdk($api) => $body,
            $crate::bench::clients::Client::Reqwest($api) => $body,
        }
    };
}
pub(crate) use with_api;

impl Client {
    /// A client of `kind` for the service at `base_url`, sending `token`.
    pub(crate) fn new(kind: Kind, base_url: &str, token: &str) -> Result<Self, String> {
        Ok(match kind {
            Kind::Floor => Client::Floor(Floor::new(base_url, token)?),
            Kind::Sdk => Client::Sdk(Sdk::new(base_url, token)?),
            Kind::Reqwest => Client::Reqwest(Plain::new(base_url, token)?),
        })
    }
}

/// `Authorization: Bearer <token>`, and the base URL without a trailing `/`.
fn authorization_and_base(base_url: &str, token: &str) -> Result<(HeaderValue, String), String> {
    let authorization = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| "the access token cannot be sent in a header".to_owned())?;
    Ok((authorization, base_url.trim_end_matches('/').to_owned()))
}

/// The SDK's client.
#[derive(Clone)]
pub(crate) struct Sdk(pub(crate) IdentityClient);

impl Sdk {
    /// The SDK's client with a static token, as a user builds it.
    pub(crate) fn new(base_url: &str, token: &str) -> Result<Self, String> {
        IdentityClient::builder()
            .base_url(base_url)
            .access_token(token)
            .environment(false)
            .build()
            .map(Sdk)
            .map_err(|e| format!("could not build the SDK's client: {e}"))
    }

    /// The SDK's client, authenticating with the password grant at
    /// `token_url` (the benchmark server's endpoint takes any credentials).
    pub(crate) fn with_password_grant(base_url: &str, token_url: &str) -> Result<Self, String> {
        IdentityClient::builder()
            .base_url(base_url)
            .token_url(token_url)
            .username("bench@acme.com")
            .password("bench-password")
            .client_id("bench-client")
            .client_secret("bench-secret")
            .environment(false)
            .build()
            .map(Sdk)
            .map_err(|e| format!("could not build the SDK's client: {e}"))
    }

    /// ListUsers read as a stream, each user dropped once seen. Returns how
    /// many users came.
    pub(crate) async fn stream_users(&self) -> Result<usize, String> {
        self.0
            .users()
            .list_users()
            .stream()
            .try_fold(0, |count, _user| async move { Ok(count + 1) })
            .await
            .map_err(|e| e.to_string())
    }
}

impl Api for Sdk {
    async fn get_user(&self, id: &str) -> Result<UserResponse, String> {
        Api::get_user(self.0.users(), id).await
    }

    async fn list_users(&self) -> Result<Vec<UserResponse>, String> {
        Api::list_users(self.0.users()).await
    }

    async fn find_users(&self, ids: &[String]) -> Result<ListUsersResponse, String> {
        Api::find_users(self.0.users(), ids).await
    }
}

/// The Users operations over any stack: the SDK's whole one (above), or
/// some of its layers (`--layers`).
impl<S, B, E> Api for UsersApi<S, E>
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
    E: From<UsersError> + std::fmt::Display + Send + 'static,
    UsersApi<S, E>: Sync,
{
    async fn get_user(&self, id: &str) -> Result<UserResponse, String> {
        UsersApi::get_user(self, id)
            .send()
            .await
            .map_err(|e| e.to_string())
    }

    async fn list_users(&self) -> Result<Vec<UserResponse>, String> {
        UsersApi::list_users(self)
            .send()
            .await
            .map_err(|e| e.to_string())
    }

    async fn find_users(&self, ids: &[String]) -> Result<ListUsersResponse, String> {
        self.find_users_by_id(ids.iter().cloned())
            .send()
            .await
            .map_err(|e| e.to_string())
    }
}

/// A client that makes the calls by hand: a GET of a path and query under
/// the base URL, its JSON answer decoded. The floor and reqwest are both.
trait GetJson {
    fn get<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> impl Future<Output = Result<T, String>> + Send;
}

impl<C: GetJson + Clone + Send + Sync + 'static> Api for C {
    async fn get_user(&self, id: &str) -> Result<UserResponse, String> {
        self.get(&format!("/api/users/{id}")).await
    }

    async fn list_users(&self) -> Result<Vec<UserResponse>, String> {
        self.get("/api/users").await
    }

    async fn find_users(&self, ids: &[String]) -> Result<ListUsersResponse, String> {
        split_and_merge(ids, |query| async move { self.get(&query).await }).await
    }
}

/// The bare hyper-util client.
#[derive(Clone)]
pub(crate) struct Floor {
    client: HyperClient<HttpConnector, Empty<Bytes>>,
    base_url: String,
    authorization: HeaderValue,
}

impl Floor {
    pub(crate) fn new(base_url: &str, token: &str) -> Result<Self, String> {
        let (authorization, base_url) = authorization_and_base(base_url, token)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Ok(Floor {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            base_url,
            authorization,
        })
    }
}

impl GetJson for Floor {
    async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, String> {
        let uri: Uri = format!("{}{path_and_query}", self.base_url)
            .parse()
            .map_err(|e| format!("bad URI: {e}"))?;
        let mut request = Request::get(uri)
            .header(ACCEPT, JSON)
            .header(AUTHORIZATION, self.authorization.clone());
        for (name, value) in SDK_HEADERS {
            request = request.header(name, value);
        }
        let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    }
}

/// reqwest, used as its documentation shows.
#[derive(Clone)]
pub(crate) struct Plain {
    client: reqwest::Client,
    base_url: String,
    authorization: HeaderValue,
}

impl Plain {
    pub(crate) fn new(base_url: &str, token: &str) -> Result<Self, String> {
        let (authorization, base_url) = authorization_and_base(base_url, token)?;
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| format!("could not build reqwest's client: {e}"))?;
        Ok(Plain {
            client,
            base_url,
            authorization,
        })
    }
}

impl GetJson for Plain {
    async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, String> {
        let mut request = self
            .client
            .get(format!("{}{path_and_query}", self.base_url))
            .header(ACCEPT, JSON)
            .header(AUTHORIZATION, self.authorization.clone());
        for (name, value) in SDK_HEADERS {
            request = request.header(name, value);
        }
        request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }
}

/// FindUsersById by hand: 50 ids a request, [`FIND_CONCURRENCY`] at once,
/// the answers merged.
async fn split_and_merge<F, Fut>(ids: &[String], get: F) -> Result<ListUsersResponse, String>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<ListUsersResponse, String>>,
{
    let queries: Vec<String> = ids
        .chunks(IDS_PER_REQUEST)
        .map(|chunk| {
            let mut query = String::from("/api/directory?");
            for (n, id) in chunk.iter().enumerate() {
                if n > 0 {
                    query.push('&');
                }
                query.push_str("id=");
                query.extend(form_urlencoded::byte_serialize(id.as_bytes()));
            }
            query
        })
        .collect();
    let answers: Vec<ListUsersResponse> = stream::iter(queries)
        .map(get)
        .buffer_unordered(FIND_CONCURRENCY)
        .try_collect()
        .await?;
    let mut merged = ListUsersResponse::default();
    for answer in answers {
        if let Some(values) = answer.values {
            merged.values.get_or_insert_default().extend(values);
        }
        if let Some(failed) = answer.failed {
            merged.failed.get_or_insert_default().extend(failed);
        }
        merged.href = merged.href.or(answer.href);
    }
    Ok(merged)
}
