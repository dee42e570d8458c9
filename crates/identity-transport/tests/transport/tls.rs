//! HTTPS against a loopback server whose certificate is signed by a root CA
//! of the test's own: refused by default (the root is in no trust store),
//! trusted when the root is the extra CA file.

use http_body_util::BodyExt;
use identity_transport::{HttpClient, TransportErrorKind};
use tower::ServiceExt;

use crate::support;

fn pki() -> support::TestPki {
    support::TestPki::new(&["127.0.0.1", "localhost"], &[b"h2", b"http/1.1"])
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let addr = support::tls_hello_server(&pki()).await;
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
    let pki = pki();
    let addr = support::tls_hello_server(&pki).await;
    let root = pki.root_file();
    let client = HttpClient::builder()
        .extra_root_certificate_file(root.path())
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

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_even_with_its_root() {
    let pki = support::TestPki::new(&["api.example.test"], &[b"http/1.1"]);
    let addr = support::tls_hello_server(&pki).await;
    let root = pki.root_file();
    let client = HttpClient::builder()
        .extra_root_certificate_file(root.path())
        .build()
        .unwrap();
    let error = client
        .oneshot(support::get(&format!("https://{addr}/")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
}
