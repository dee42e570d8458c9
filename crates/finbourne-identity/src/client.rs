//! [`IdentityClient`]: the configured client, and the way into its
//! operations and its tower stack.

use std::sync::Arc;

use identity_config::{Credentials, IdentityConfig};
use identity_users::{BaseUrl, UsersApi};
use tower_layer::Layer;

use crate::stack::{DefaultStack, StackSettings};
use crate::{Error, IdentityClientBuilder};

/// A client of the FINBOURNE Identity service.
///
/// Cheap to clone: clones share one connection pool, one token cache, one
/// retry budget and one throttle. `S` is the tower service the calls go through: the
/// [`DefaultStack`] unless you wrapped it with [`with_layer`](Self::with_layer).
#[derive(Clone, Debug)]
pub struct IdentityClient<S = DefaultStack> {
    users: UsersApi<S, Error>,
    /// The password grant's username, when the client signs in with one.
    username: Option<Arc<str>>,
}

impl IdentityClient {
    /// A builder: settings in code, completed from the environment and the
    /// `secrets.json` named, if any.
    pub fn builder() -> IdentityClientBuilder {
        IdentityClientBuilder::new()
    }

    /// A client configured from the `FBN_*` environment variables, then the
    /// `secrets.json` that `FBN_SECRETS_PATH` names, if any.
    ///
    /// No other file is read: a `secrets.json` in the working directory is
    /// not (a cloned repository may bring one). To read a file of your
    /// choice, name it: `IdentityClient::builder().secrets_file(path).build()`.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A client of a resolved configuration.
    pub fn from_config(config: &IdentityConfig) -> Result<Self, Error> {
        Self::from_config_with(config, StackSettings::default())
    }

    /// The throttle's pace now, and counts of what it has seen: shared by
    /// every clone of this client (see [`IdentityClientBuilder::throttle`]).
    pub fn throttle(&self) -> crate::ThrottleSnapshot {
        self.service().throttle()
    }

    pub(crate) fn from_config_with(
        config: &IdentityConfig,
        settings: StackSettings,
    ) -> Result<Self, Error> {
        let base_url = BaseUrl::parse(config.identity_url())?;
        let service = crate::stack::build(config, &settings)?;
        let username = match config.credentials() {
            Credentials::PasswordGrant(grant) => Some(Arc::from(grant.username())),
            Credentials::AccessToken(_) | Credentials::AccessTokenFile(_) => None,
        };
        Ok(Self {
            users: UsersApi::new(service, base_url).with_error(),
            username,
        })
    }
}

impl<S: Clone> IdentityClient<S> {
    /// A client over any tower service, as kube's `Client::new(service, ..)`:
    /// code written against `IdentityClient` can be handed a `tower-test`
    /// mock, a stub, or a stack of your own. The service gets each call as
    /// an `http::Request<Bytes>` whose URI is `base_url` joined with the
    /// operation's path.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use bytes::Bytes;
    /// use finbourne_identity::{BaseUrl, IdentityClient};
    ///
    /// // A stub service that knows one user.
    /// let stub = tower::service_fn(|request: http::Request<Bytes>| async move {
    ///     let body = if request.uri().path() == "/identity/api/users/00u1" {
    ///         r#"{"id":"00u1","emailAddress":"ann@acme.com","login":"ann@acme.com",
    ///             "firstName":"Ann","lastName":"Lee","type":"Personal","status":"ACTIVE","external":false}"#
    ///     } else {
    ///         ""
    ///     };
    ///     let status = if body.is_empty() { 404 } else { 200 };
    ///     let response = http::Response::builder()
    ///         .status(status)
    ///         .body(http_body_util::Full::new(Bytes::from(body)))?;
    ///     Ok::<_, http::Error>(response)
    /// });
    /// let base_url = BaseUrl::parse("https://acme.lusid.com/identity").expect("a URL");
    /// let client = IdentityClient::from_service(stub, base_url);
    ///
    /// let ann = client.users().get_user("00u1").send().await.expect("the stub knows Ann");
    /// assert_eq!(ann.first_name, "Ann");
    /// assert!(client.users().get_user("00u2").send().await.unwrap_err().is_not_found());
    /// # }
    /// ```
    pub fn from_service(service: S, base_url: BaseUrl) -> Self {
        Self {
            users: UsersApi::new(service, base_url).with_error(),
            username: None,
        }
    }

    /// The username the client signs in as, when it uses the password
    /// grant: the login of the account its calls act as. `None` for a
    /// personal access token (which does not say whose it is) and for a
    /// client made [`from_service`](Self::from_service).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The Users operations.
    pub fn users(&self) -> &UsersApi<S, Error> {
        &self.users
    }

    /// The composed tower service, to use elsewhere or wrap further.
    pub fn service(&self) -> &S {
        self.users.service()
    }

    /// Wraps the whole stack in a layer of yours (metrics, caching, a
    /// policy...): it sees each call once, before the SDK's headers, timeout,
    /// retry and auth layers.
    pub fn with_layer<L: Layer<S>>(self, layer: L) -> IdentityClient<L::Service>
    where
        L::Service: Clone,
    {
        IdentityClient {
            users: UsersApi::new(
                layer.layer(self.users.service().clone()),
                self.users.base_url().clone(),
            )
            .with_error(),
            username: self.username,
        }
    }
}
