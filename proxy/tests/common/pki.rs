//! Certificates for the TLS tests, made fresh by rcgen into a temporary directory: a
//! CA, a server certificate for `localhost` and 127.0.0.1, a client certificate, one
//! that expired, and a second CA that trusts none of them.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
};
use std::path::{Path, PathBuf};

/// PEM files in `dir`.
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap()
    }
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(dir: &Path, name: &str, issuer: &CertifiedIssuer<'static, KeyPair>, expired: bool) {
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

/// Makes `ca.pem`, `server.pem/.key`, `client.pem/.key`, `expired.pem/.key` (signed
/// by the CA, expired in 2021), and `other-ca.pem` with `stranger.pem/.key` (signed by
/// a CA nobody trusts), in a new directory named after `test`.
pub fn pki(test: &str) -> Pki {
    let dir = std::env::temp_dir().join(format!("atomix-proxy-pki-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let authority = ca("atomix test CA");
    std::fs::write(dir.join("ca.pem"), authority.pem()).unwrap();
    for name in ["server", "client", "second-server"] {
        leaf(&dir, name, &authority, false);
    }
    leaf(&dir, "expired", &authority, true);
    let other = ca("a CA nobody trusts");
    std::fs::write(dir.join("other-ca.pem"), other.pem()).unwrap();
    leaf(&dir, "stranger", &other, false);
    Pki { dir }
}

/// A rustls server configuration from `cert`/`key` in `pki`, requiring a client
/// certificate from `client_ca` when given.
pub fn server_config(
    pki: &Pki,
    cert: &str,
    client_ca: Option<&str>,
) -> std::sync::Arc<tokio_rustls::rustls::ServerConfig> {
    use pki_types::pem::PemObject;
    use pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&pki.read(&format!("{cert}.pem")))
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&pki.read(&format!("{cert}.key"))).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&pki.read(ca)) {
                roots.add(c.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    std::sync::Arc::new(config)
}

/// A TLS connection to `addr` (as `localhost`) that trusts `pki`'s CA and presents no
/// certificate.
pub async fn tls_connect(
    pki: &Pki,
    addr: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use pki_types::pem::PemObject;
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    for cert in pki_types::CertificateDer::pem_slice_iter(&pki.read("ca.pem")) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}
