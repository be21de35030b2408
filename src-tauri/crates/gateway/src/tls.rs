//! TLS for team mode: a PEM certificate chain and key, rustls with the ring
//! provider (the one reqwest already links; no second crypto library).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;

use crate::error::GatewayError;
use crate::state::TlsFiles;

fn tls_error(path: &Path, message: &dyn std::fmt::Display) -> GatewayError {
    GatewayError::Tls {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Reads the files and builds the acceptor; every failure names its file.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, GatewayError> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls_error(&files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&files.cert, &e))?;
    if certs.is_empty() {
        return Err(tls_error(&files.cert, &"no certificate in this file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| tls_error(&files.key, &e))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&files.cert, &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_error(&files.key, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
