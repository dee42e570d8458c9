//! The TLS configuration of [`HttpClient`](crate::HttpClient): rustls with
//! the `ring` provider, the Mozilla roots of `webpki-roots`, and optionally
//! the certificates of one extra PEM file (a corporate CA, or a test CA), as
//! the official SDKs' `clientCertificate` setting.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::BuildError;

/// A rustls client configuration trusting the web's roots and the
/// certificates of `extra_ca_file`, if any.
///
/// The ALPN protocols are set by hyper-rustls when it wraps the connector.
pub(crate) fn client_config(
    extra_ca_file: Option<&Path>,
) -> Result<rustls::ClientConfig, BuildError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca_file {
        for certificate in read_certificates(path)? {
            roots
                .add(certificate)
                .map_err(|error| BuildError::CaFileInvalid {
                    path: path.to_path_buf(),
                    reason: format!("a certificate cannot be used as a root: {error}"),
                })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(BuildError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth())
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
    fn the_default_configuration_builds() {
        assert!(client_config(None).is_ok());
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
