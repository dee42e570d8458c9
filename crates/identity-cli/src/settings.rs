//! From the global flags to a configured client: each flag given becomes an
//! explicit setting of the SDK's builder, which completes the rest from the
//! FBN_* environment variables and then the secrets.json named by
//! `--secrets` or FBN_SECRETS_PATH (no other), key by key, the same as any
//! program using the SDK.
//!
//! Config values are never logged here (the SDK redacts secrets in its own
//! output).

use std::time::Duration;

use finbourne_identity::{IdentityClient, IdentityClientBuilder};

use crate::args::GlobalArgs;
use crate::errors::CliError;

/// The SDK builder with the settings given as flags.
pub(crate) fn builder(global: &GlobalArgs) -> IdentityClientBuilder {
    let mut builder = IdentityClient::builder();
    if let Some(url) = &global.base_url {
        builder = builder.base_url(url.as_str());
    }
    if let Some(url) = &global.token_url {
        builder = builder.token_url(url.as_str());
    }
    if let Some(token) = &global.access_token {
        builder = builder.access_token(token.as_str());
    }
    if let Some(username) = &global.username {
        builder = builder.username(username.as_str());
    }
    if let Some(client_id) = &global.client_id {
        builder = builder.client_id(client_id.as_str());
    }
    if let Some(name) = &global.app_name {
        builder = builder.application_name(name.as_str());
    }
    if let Some(id) = &global.correlation_id {
        builder = builder.correlation_id(id.as_str());
    }
    if let Some(ms) = global.timeout_ms {
        builder = builder.total_timeout(Duration::from_millis(ms));
    }
    if let Some(retries) = global.rate_limit_retries {
        builder = builder.rate_limit_retries(retries);
    }
    // Without the flag, FBN_ALLOW_INSECURE_HTTP decides.
    if global.allow_insecure_http {
        builder = builder.allow_insecure_http(true);
    }
    if let Some(file) = &global.secrets {
        builder = builder.secrets_file(file);
    }
    builder
}

/// The client the flags, the environment and the named secrets.json describe.
pub(crate) fn client(global: &GlobalArgs) -> Result<IdentityClient, CliError> {
    Ok(builder(global).build()?)
}
