//! The headers every call of the SDK carries: who is calling, and the
//! caller's correlation id.
//!
//! `User-Agent: finbourne-identity-rust/<version>`, `X-LUSID-SDK-Language:
//! Rust` and `X-LUSID-SDK-Version: <version>` as the official SDKs send
//! theirs; `X-LUSID-Application` when an application name is configured;
//! `CorrelationId` from the call's
//! [`RequestOptions::correlation_id`](identity_call::RequestOptions::correlation_id),
//! else one already on the request, else the client's. The layer sits
//! outside the retry layer, so every attempt carries the same values.
//!
//! It is a pass-through: it sets headers and hands the request on, with the
//! inner service's future and error. What can fail fails before any call:
//! the configured values when the layer is built, a call's correlation id
//! when its options are made.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::USER_AGENT;
use http::{HeaderName, HeaderValue};
use identity_call::RequestOptions;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::BuildError;

const SDK_LANGUAGE: HeaderName = HeaderName::from_static("x-lusid-sdk-language");
const SDK_VERSION: HeaderName = HeaderName::from_static("x-lusid-sdk-version");
const APPLICATION: HeaderName = HeaderName::from_static("x-lusid-application");
/// The `CorrelationId` header (HTTP names are case-insensitive).
const CORRELATION_ID: HeaderName = HeaderName::from_static("correlationid");

const USER_AGENT_VALUE: HeaderValue = HeaderValue::from_static(concat!(
    "finbourne-identity-rust/",
    env!("CARGO_PKG_VERSION")
));
const LANGUAGE_VALUE: HeaderValue = HeaderValue::from_static("Rust");
const VERSION_VALUE: HeaderValue = HeaderValue::from_static(env!("CARGO_PKG_VERSION"));

/// What the headers layer adds beside the SDK's own headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadersConfig {
    /// Sent as `X-LUSID-Application` (the official SDKs' `applicationName`,
    /// `FBN_APP_NAME`).
    pub application_name: Option<String>,
    /// Sent as `CorrelationId` on calls that do not set their own
    /// (`FBN_CORRELATION_ID`).
    pub correlation_id: Option<String>,
}

/// Adds the SDK's headers to every call. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct SdkHeadersLayer {
    values: Arc<ConfiguredValues>,
}

#[derive(Debug)]
struct ConfiguredValues {
    application: Option<HeaderValue>,
    correlation_id: Option<HeaderValue>,
}

impl SdkHeadersLayer {
    /// The layer, with its header values checked.
    pub fn new(config: HeadersConfig) -> Result<Self, BuildError> {
        let value = |setting: Option<String>, name| {
            setting
                .map(|text| {
                    HeaderValue::try_from(text).map_err(|_| BuildError::InvalidHeaderValue { name })
                })
                .transpose()
        };
        Ok(Self {
            values: Arc::new(ConfiguredValues {
                application: value(config.application_name, "application name")?,
                correlation_id: value(config.correlation_id, "correlation id")?,
            }),
        })
    }
}

impl<S> Layer<S> for SdkHeadersLayer {
    type Service = SdkHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SdkHeaders {
            inner,
            values: Arc::clone(&self.values),
        }
    }
}

/// The service of [`SdkHeadersLayer`].
#[derive(Clone, Debug)]
pub struct SdkHeaders<S> {
    inner: S,
    values: Arc<ConfiguredValues>,
}

impl<S, B> Service<http::Request<B>> for SdkHeaders<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let call_correlation_id = RequestOptions::of(&request).get_correlation_id().cloned();
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, USER_AGENT_VALUE);
        headers.insert(SDK_LANGUAGE, LANGUAGE_VALUE);
        headers.insert(SDK_VERSION, VERSION_VALUE);
        if let Some(application) = &self.values.application {
            headers.insert(APPLICATION, application.clone());
        }
        match call_correlation_id {
            Some(id) => {
                headers.insert(CORRELATION_ID, id);
            }
            None => {
                if let Some(id) = &self.values.correlation_id {
                    headers.entry(CORRELATION_ID).or_insert_with(|| id.clone());
                }
            }
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tower::ServiceExt;

    async fn sent_headers(config: HeadersConfig, request: http::Request<Bytes>) -> http::HeaderMap {
        let layer = SdkHeadersLayer::new(config).unwrap();
        let (mock, mut handle) =
            tower_test::mock::pair::<http::Request<Bytes>, http::Response<()>>();
        let service = layer.layer(mock);
        let call = tokio::spawn(service.oneshot(request));
        let (sent, respond) = handle.next_request().await.unwrap();
        respond.send_response(http::Response::new(()));
        call.await.unwrap().unwrap();
        sent.headers().clone()
    }

    fn get() -> http::Request<Bytes> {
        http::Request::builder()
            .uri("http://127.0.0.1/api/users")
            .body(Bytes::new())
            .unwrap()
    }

    #[tokio::test]
    async fn adds_the_sdk_headers() {
        let headers = sent_headers(HeadersConfig::default(), get()).await;
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            headers["user-agent"],
            format!("finbourne-identity-rust/{version}").as_str()
        );
        assert_eq!(headers["x-lusid-sdk-language"], "Rust");
        assert_eq!(headers["x-lusid-sdk-version"], version);
        assert!(!headers.contains_key("x-lusid-application"));
        assert!(!headers.contains_key("correlationid"));
    }

    #[tokio::test]
    async fn adds_the_configured_application_and_correlation_id() {
        let config = HeadersConfig {
            application_name: Some("payroll-sync".into()),
            correlation_id: Some("client-wide".into()),
        };
        let headers = sent_headers(config, get()).await;
        assert_eq!(headers["x-lusid-application"], "payroll-sync");
        assert_eq!(headers["CorrelationId"], "client-wide");
    }

    #[tokio::test]
    async fn the_call_correlation_id_wins() {
        let config = HeadersConfig {
            correlation_id: Some("client-wide".into()),
            ..HeadersConfig::default()
        };
        let mut request = get();
        RequestOptions::new()
            .correlation_id("this-call")
            .unwrap()
            .set_on(&mut request);
        let headers = sent_headers(config, request).await;
        assert_eq!(headers["correlationid"], "this-call");
        assert_eq!(headers.get_all("correlationid").iter().count(), 1);
    }

    #[test]
    fn a_configured_value_that_is_not_a_header_value_is_refused() {
        let error = SdkHeadersLayer::new(HeadersConfig {
            application_name: Some("line\nbreak".into()),
            correlation_id: None,
        })
        .unwrap_err();
        assert!(matches!(
            error,
            BuildError::InvalidHeaderValue {
                name: "application name"
            }
        ));
    }
}
