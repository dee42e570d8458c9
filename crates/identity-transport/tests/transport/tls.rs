//! HTTPS against a loopback server with a self-signed certificate.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::BodyExt;
use identity_transport::{HttpClient, TransportErrorKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::support;

/// A TLS server for 127.0.0.1 and localhost, offering HTTP/2 and HTTP/1.1;
/// returns its address and its certificate's PEM.
async fn tls_server() -> (SocketAddr, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let pem = certified.cert.pem();
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    support::serve_hello(tls).await;
                }
            });
        }
    });
    (addr, pem)
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (addr, _) = tls_server().await;
    let client = HttpClient::new().unwrap();
    let error = client
        .oneshot(support::get(&format!("https://{addr}/api/users")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
    assert!(!error.may_have_been_sent());
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn the_extra_ca_file_is_trusted_and_http2_is_negotiated() {
    let (addr, pem) = tls_server().await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pem.as_bytes()).unwrap();
    let client = HttpClient::builder()
        .extra_root_certificate_file(file.path())
        .build()
        .unwrap();
    let response = client
        .oneshot(support::get(&format!("https://{addr}/api/users")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hello over HTTP/2.0");
}
