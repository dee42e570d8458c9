//! [`IdentityClient`]: the configured client, and the way into its
//! operations and its tower stack.

use identity_config::IdentityConfig;
use identity_users::{BaseUrl, UsersApi};
use tower_layer::Layer;

use crate::stack::{DefaultStack, StackSettings};
use crate::{Error, IdentityClientBuilder};

/// A client of the FINBOURNE Identity service.
///
/// Cheap to clone: clones share one connection pool, one token cache and
/// one retry budget. `S` is the tower service the calls go through: the
/// [`DefaultStack`] unless you wrapped it with [`with_layer`](Self::with_layer).
#[derive(Clone, Debug)]
pub struct IdentityClient<S = DefaultStack> {
    users: UsersApi<S, Error>,
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

    pub(crate) fn from_config_with(
        config: &IdentityConfig,
        settings: StackSettings,
    ) -> Result<Self, Error> {
        let base_url = BaseUrl::parse(config.identity_url())?;
        let service = crate::stack::build(config, &settings)?;
        Ok(Self {
            users: UsersApi::new(service, base_url).with_error(),
        })
    }
}

impl<S: Clone> IdentityClient<S> {
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
        }
    }
}
