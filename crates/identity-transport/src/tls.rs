//! The TLS configuration of [`HttpClient`](crate::HttpClient): rustls with
//! the `ring` provider, verifying servers against the roots the crate's
//! features choose, and the certificates of one extra PEM file (a corporate
//! CA, or a test CA), as the official SDKs' `clientCertificate` setting.
//!
//! | features | roots |
//! |---|---|
//! | `native-roots` (default) | the operating system's trust store and verifier, through `rustls-platform-verifier`: a corporate root installed on the machine is trusted; on Linux and other Unixes the store is the system's CA bundle, or the PEM file named by `SSL_CERT_FILE` (or the directories of `SSL_CERT_DIR`) when set |
//! | `webpki-roots` alone | the Mozilla roots compiled into the binary (`webpki-roots`), whatever the machine trusts |
//! | both | as `native-roots`: features add up across a build, and the system's store is the one its administrator controls |
//! | neither | the extra CA file's certificates only (building fails without one) |
//!
//! Certificates are always checked: there is no setting that turns the
//! checks off.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WantsClientCert;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::BuildError;

/// A rustls client configuration that verifies servers against the roots of
/// the crate's features and the certificates of `extra_ca_file`, if any.
///
/// The ALPN protocols are set by hyper-rustls when it wraps the connector.
pub(crate) fn client_config(
    extra_ca_file: Option<&Path>,
) -> Result<rustls::ClientConfig, BuildError> {
    let extra_roots = match extra_ca_file {
        Some(path) => checked_roots(path)?,
        None => Vec::new(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(BuildError::Tls)?;
    Ok(verifying(builder, provider, extra_roots)?.with_no_client_auth())
}

/// The operating system's verifier, which also trusts `extra_roots`.
#[cfg(feature = "native-roots")]
fn verifying(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, WantsClientCert>, BuildError> {
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider)
        .map_err(BuildError::TrustStore)?;
    // `dangerous()` is rustls' door to any verifier other than its own
    // WebPKI one; this one checks as strictly (on Linux it is WebPKI over
    // the system's roots), and nothing here lets a caller weaken it.
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier)))
}

/// WebPKI over the compiled-in roots (with `webpki-roots`) and `extra_roots`.
#[cfg(not(feature = "native-roots"))]
fn verifying(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
    _provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, WantsClientCert>, BuildError> {
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // Checked by `checked_roots`: none is refused here.
    let (_, _) = roots.add_parsable_certificates(extra_roots);
    if roots.is_empty() {
        return Err(BuildError::NoTrustedRoots);
    }
    Ok(builder.with_root_certificates(roots))
}

/// The certificates of the extra CA file, each checked to be usable as a
/// root, so that a bad file is an error naming it.
fn checked_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    let certificates = read_certificates(path)?;
    let mut check = RootCertStore::empty();
    for certificate in &certificates {
        check
            .add(certificate.clone())
            .map_err(|error| BuildError::CaFileInvalid {
                path: path.to_path_buf(),
                reason: format!("a certificate cannot be used as a root: {error}"),
            })?;
    }
    Ok(certificates)
}

/// Every certificate of a PEM file; at least one.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    let pem = std::fs::read(path).map_err(|source| BuildError::CaFileUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| BuildError::CaFileInvalid {
            path: path.to_path_buf(),
            reason: format!("it is not valid PEM ({error})"),
        })?;
    if certificates.is_empty() {
        return Err(BuildError::CaFileInvalid {
            path: path.to_path_buf(),
            reason: "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        });
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    #[cfg(any(feature = "native-roots", feature = "webpki-roots"))]
    fn the_default_configuration_builds() {
        assert!(client_config(None).is_ok());
    }

    #[test]
    #[cfg(not(any(feature = "native-roots", feature = "webpki-roots")))]
    fn without_root_features_the_extra_file_is_required() {
        assert!(matches!(
            client_config(None),
            Err(BuildError::NoTrustedRoots)
        ));
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let error = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(error, BuildError::CaFileUnreadable { .. }));
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn a_file_without_certificates_is_named_in_the_error() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"this is not a certificate\n").unwrap();
        let error = client_config(Some(file.path())).unwrap_err();
        assert!(matches!(error, BuildError::CaFileInvalid { .. }));
        assert!(
            error
                .to_string()
                .contains(&file.path().display().to_string())
        );
    }

    #[test]
    fn a_broken_pem_section_is_an_error() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"-----BEGIN CERTIFICATE-----\nnot base64!!\n")
            .unwrap();
        let error = client_config(Some(file.path())).unwrap_err();
        assert!(
            matches!(error, BuildError::CaFileInvalid { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_certificate_file_is_read() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(certified.cert.pem().as_bytes()).unwrap();
        assert_eq!(read_certificates(file.path()).unwrap().len(), 1);
        assert!(client_config(Some(file.path())).is_ok());
    }
}
