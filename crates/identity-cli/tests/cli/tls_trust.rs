//! The trust store: `fbn-identity` verifies the service against the roots
//! the machine trusts. A TLS front with a root CA of the test's own stands
//! before the emulator; the binary, run as a child process (no test sets
//! an environment variable in its own process), is refused by default,
//! accepted when the root is the machine's trust store (`SSL_CERT_FILE`,
//! which the system's store honours on Linux and other Unixes but Apple's),
//! and accepted when the root is the extra CA file (`FBN_CLIENT_CERTIFICATE`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{self, TOKEN, TestEmulator};

/// A TLS front for `upstream` on loopback, with a certificate for
/// 127.0.0.1 signed by a fresh root; its runtime, address and the root's
/// PEM file.
struct TlsFront {
    _runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    root_pem: PathBuf,
}

impl TlsFront {
    fn start(upstream: SocketAddr, dir: &std::path::Path) -> Self {
        let mut root = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        root.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        root.distinguished_name
            .push(rcgen::DnType::CommonName, "fbn-identity test root");
        root.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let root =
            rcgen::CertifiedIssuer::self_signed(root, rcgen::KeyPair::generate().unwrap()).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &root)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), root.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        // The front relays bytes to the emulator: HTTP/1.1 on both sides.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let root_pem = dir.join("test-root.pem");
        std::fs::write(&root_pem, root.pem()).unwrap();

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
        Self {
            _runtime: runtime,
            addr,
            root_pem,
        }
    }
}

/// `users list` against the TLS front, with `vars` in the environment.
fn list_users(
    emulator: &TestEmulator,
    front: &TlsFront,
    vars: &[(&str, &PathBuf)],
) -> support::Run {
    let base_url = format!("https://{}/identity", front.addr);
    let mut command = support::command(emulator.dir());
    command.args([
        "--json",
        "--base-url",
        &base_url,
        "--access-token",
        TOKEN,
        "users",
        "list",
    ]);
    for (name, value) in vars {
        command.env(name, value);
    }
    support::finish(&mut command)
}

#[test]
fn a_root_the_machine_does_not_trust_is_refused() {
    let emulator = TestEmulator::start();
    let front = TlsFront::start(emulator.emulator().addr(), emulator.dir());
    let run = list_users(&emulator, &front, &[]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("TLS") || run.stderr.contains("certificate"),
        "{run:#?}"
    );
}

#[test]
#[cfg(all(unix, not(target_vendor = "apple")))]
fn a_root_installed_on_the_machine_is_trusted() {
    let emulator = TestEmulator::start();
    let front = TlsFront::start(emulator.emulator().addr(), emulator.dir());
    let run = list_users(&emulator, &front, &[("SSL_CERT_FILE", &front.root_pem)]);
    run.ok();
    assert_eq!(run.json(), serde_json::json!([]));
}

#[test]
fn the_extra_ca_file_is_trusted() {
    let emulator = TestEmulator::start();
    let front = TlsFront::start(emulator.emulator().addr(), emulator.dir());
    let run = list_users(
        &emulator,
        &front,
        &[("FBN_CLIENT_CERTIFICATE", &front.root_pem)],
    );
    run.ok();
}
