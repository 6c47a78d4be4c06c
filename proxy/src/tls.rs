//! TLS with rustls, toward clients and toward replicas, from PEM files.
//!
//! The crypto provider is aws-lc-rs, rustls's default: its key exchange includes the
//! post-quantum hybrid X25519MLKEM768 (rustls deprecates *ring*'s provider for lacking
//! it), its AES-GCM is the assembly OpenSSL's derives from, which is what a call costs
//! once a connection is up, and on x86_64 Linux it builds with a C compiler alone.
//! Both sides speak TLS 1.3 and 1.2 and offer ALPN `h2` only: gRPC is HTTP/2.
//!
//! Every error names the file and what is wrong with it; the files are read at start
//! and again on each reload, so a rotated certificate is taken up without a restart.

use crate::config::{ServerTls, UpstreamTls};
use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};

const ALPN_H2: &[u8] = b"h2";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The listeners' TLS: their certificate, and the client CAs when clients must
/// present a certificate.
pub fn server_config(files: &ServerTls) -> Result<Arc<ServerConfig>, String> {
    let certs = certificates(&files.cert, "--tls-cert")?;
    let key = private_key(&files.key, "--tls-key")?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let roots = roots(ca, "--tls-client-ca")?;
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider())
                    .build()
                    .map_err(|e| format!("--tls-client-ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!(
            "--tls-cert {} and --tls-key {}: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// The metrics listener's TLS: the listeners' certificate, but no client certificate
/// asked for, since Kubernetes probes and most scrapers present none.
pub fn metrics_config(files: &ServerTls) -> Result<Arc<ServerConfig>, String> {
    let plain = ServerTls {
        client_ca: None,
        ..files.clone()
    };
    let mut config = Arc::unwrap_or_clone(server_config(&plain)?);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How replicas are reached over TLS.
#[derive(Clone)]
pub struct Upstream {
    pub connector: tokio_rustls::TlsConnector,
    /// The name every replica's certificate is checked against, instead of its host.
    pub server_name: Option<ServerName<'static>>,
}

impl Upstream {
    /// The name `addr`'s (`host:port`) certificate must carry.
    pub fn name_of(&self, addr: &str) -> Result<ServerName<'static>, String> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host:?} cannot be checked against a certificate: {e}"))
    }
}

/// TLS toward replicas, from `--upstream-*`.
pub fn upstream(files: &UpstreamTls) -> Result<Upstream, String> {
    let roots = roots(&files.ca, "--upstream-ca")?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots);
    let mut config = match &files.identity {
        Some((cert_file, key_file)) => {
            let certs = certificates(cert_file, "--upstream-cert")?;
            let key = private_key(key_file, "--upstream-key")?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                format!(
                    "--upstream-cert {} and --upstream-key {}: {e}",
                    cert_file.display(),
                    key_file.display()
                )
            })?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    let server_name = match &files.server_name {
        Some(name) => Some(
            ServerName::try_from(name.clone())
                .map_err(|e| format!("--upstream-server-name {name:?}: {e}"))?,
        ),
        None => None,
    };
    Ok(Upstream {
        connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        server_name,
    })
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {flag} {}: {e}", path.display()))
}

fn certificates(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path, flag)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{flag} {}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{flag} {}: no certificate in it (a PEM \"BEGIN CERTIFICATE\" block)",
            path.display()
        ));
    }
    Ok(certs)
}

fn private_key(path: &Path, flag: &str) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(path, flag)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| format!("{flag} {}: no private key in it: {e}", path.display()))
}

fn roots(path: &Path, flag: &str) -> Result<Arc<RootCertStore>, String> {
    let mut store = RootCertStore::empty();
    for cert in certificates(path, flag)? {
        store
            .add(cert)
            .map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    }
    Ok(Arc::new(store))
}
