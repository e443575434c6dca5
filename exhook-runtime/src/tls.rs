//! TLS and mutual TLS for the gRPC listener.

use std::path::Path;

use crate::error::Error;

/// The server's TLS identity, and optionally the CA that client
/// certificates must be signed by (mutual TLS).
///
/// EMQX connects with `https://` in its server URL; with `ssl.certfile` and
/// `ssl.keyfile` set on its side it presents a client certificate, which
/// [`client_ca`](Self::client_ca) then requires.
///
/// ```no_run
/// use exhook_runtime::TlsConfig;
///
/// let tls = TlsConfig::from_pem_files("server.pem", "server.key")?
///     .client_ca_file("ca.pem")?;
/// # let _ = tls;
/// # Ok::<(), exhook_runtime::Error>(())
/// ```
#[derive(Clone)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub struct TlsConfig {
    pub(crate) cert: Vec<u8>,
    pub(crate) key: Vec<u8>,
    pub(crate) client_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsConfig {
    // The private key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("client_ca", &self.client_ca.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// The server certificate chain and private key, PEM-encoded.
    pub fn from_pem(cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        TlsConfig {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
        }
    }

    /// Reads the certificate chain and key from PEM files.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, Error> {
        Ok(Self::from_pem(read(cert.as_ref())?, read(key.as_ref())?))
    }

    /// Requires a client certificate signed by this CA (PEM).
    pub fn client_ca(mut self, ca: impl Into<Vec<u8>>) -> Self {
        self.client_ca = Some(ca.into());
        self
    }

    /// Requires a client certificate signed by the CA in this PEM file.
    pub fn client_ca_file(self, ca: impl AsRef<Path>) -> Result<Self, Error> {
        Ok(self.client_ca(read(ca.as_ref())?))
    }

    /// `EXHOOK_TLS_CERT` and `EXHOOK_TLS_KEY` (PEM file paths, or PEM text),
    /// and `EXHOOK_TLS_CLIENT_CA` for mutual TLS; `None` when no certificate
    /// is configured.
    pub fn from_env() -> Result<Option<Self>, Error> {
        let cert = env_pem("EXHOOK_TLS_CERT")?;
        let key = env_pem("EXHOOK_TLS_KEY")?;
        let client_ca = env_pem("EXHOOK_TLS_CLIENT_CA")?;
        match (cert, key) {
            (Some(cert), Some(key)) => {
                let tls = TlsConfig::from_pem(cert, key);
                Ok(Some(match client_ca {
                    Some(ca) => tls.client_ca(ca),
                    None => tls,
                }))
            }
            (None, None) if client_ca.is_none() => Ok(None),
            _ => Err(Error::tls_setting(
                "EXHOOK_TLS_CERT, EXHOOK_TLS_KEY and EXHOOK_TLS_CLIENT_CA: the certificate and the key go together, and a client CA needs both",
            )),
        }
    }

    /// A rustls acceptor (ring) offering HTTP/2 by ALPN, as EMQX asks for.
    #[cfg(feature = "tls")]
    pub(crate) fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, Error> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        use std::sync::Arc;
        use tokio_rustls::rustls;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = CertificateDer::pem_slice_iter(&self.cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::tls("server certificate", e))?;
        if certs.is_empty() {
            return Err(Error::tls_setting(
                "server certificate: no PEM certificate found",
            ));
        }
        let key =
            PrivateKeyDer::from_pem_slice(&self.key).map_err(|e| Error::tls("server key", e))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::tls("protocol versions", e))?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca) {
                    roots
                        .add(cert.map_err(|e| Error::tls("client CA", e))?)
                        .map_err(|e| Error::tls("client CA", e))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| Error::tls("client CA", e))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| Error::tls("server certificate and key", e))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::tls(format!("reading {}", path.display()), source))
}

fn env_pem(name: &str) -> Result<Option<Vec<u8>>, Error> {
    match std::env::var(name) {
        Ok(value) if value.trim_start().starts_with("-----BEGIN") => Ok(Some(value.into_bytes())),
        Ok(value) if !value.trim().is_empty() => {
            read(Path::new(value.trim()))
                .map(Some)
                .map_err(|error| match error {
                    Error::TlsSetup { what, source } => Error::TlsSetup {
                        what: format!("{name}: {what}"),
                        source,
                    },
                    other => other,
                })
        }
        _ => Ok(None),
    }
}
