//! The options every subcommand shares, and the HTTP/2 connections they open.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use exhook_hooks::Version;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Which protocol generation to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Proto {
    /// `emqx.exhook.v1`, EMQX 4.3 and 4.4.
    V1,
    /// `emqx.exhook.v2`, EMQX 5.0 to 5.8.
    V2,
    /// `emqx.exhook.v3`, EMQX 5.9 and later.
    V3,
    /// The newest generation the provider answers `OnProviderLoaded` on.
    Auto,
}

impl Proto {
    /// The fixed version, or `None` for `auto`.
    pub(crate) fn version(self) -> Option<Version> {
        match self {
            Proto::V1 => Some(Version::V1),
            Proto::V2 => Some(Version::V2),
            Proto::V3 => Some(Version::V3),
            Proto::Auto => None,
        }
    }
}

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Common {
    /// Protocol generation: v1 (EMQX 4.3-4.4), v2 (5.0-5.8), v3 (5.9+) or auto.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub(crate) proto: Proto,
    /// EMQX's request_timeout: sent as grpc-timeout with every call, and how
    /// long a call may take before EMQX gives up on it.
    #[arg(long, global = true, default_value = "5s", value_parser = humantime::parse_duration)]
    pub(crate) timeout: Duration,
    /// The cluster name EMQX sends in every request's meta.
    #[arg(long, global = true, default_value = "emqxcl")]
    pub(crate) cluster_name: String,
    /// Speak TLS (implied by an https:// URL).
    #[arg(long, global = true)]
    pub(crate) tls: bool,
    /// CA certificate (PEM) that signed the provider's certificate; without
    /// it, the public web roots.
    #[arg(long, global = true, value_name = "PEM")]
    pub(crate) cacert: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with --key.
    #[arg(long, global = true, value_name = "PEM", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS, with --cert.
    #[arg(long, global = true, value_name = "PEM", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// The provider's name in its certificate, when not the URL's host.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) server_name: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Common {
    /// Whether the connection uses TLS.
    pub(crate) fn uses_tls(&self, url: &str) -> bool {
        self.tls || url.starts_with("https://") || self.cacert.is_some() || self.cert.is_some()
    }

    /// The endpoint for `url`, with EMQX's transport settings: TCP_NODELAY,
    /// HTTP/2 windows of 8 MB as EMQX 5's gun opens them, PING every 60 s.
    pub(crate) fn endpoint(&self, url: &str) -> Result<Endpoint, String> {
        let tls = self.uses_tls(url);
        let url = if tls && url.starts_with("http://") {
            url.replacen("http://", "https://", 1)
        } else {
            url.to_owned()
        };
        let mut endpoint = Endpoint::from_shared(url.clone())
            .map_err(|error| format!("{url}: not a URL ({error})"))?
            .connect_timeout(self.timeout)
            .tcp_nodelay(true)
            .initial_connection_window_size(8_000_000)
            .initial_stream_window_size(8_000_000)
            .http2_keep_alive_interval(Duration::from_secs(60));
        if tls {
            let read = |path: &PathBuf| {
                std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))
            };
            let mut config = ClientTlsConfig::new();
            config = match &self.cacert {
                Some(path) => config.ca_certificate(Certificate::from_pem(read(path)?)),
                None => config.with_webpki_roots(),
            };
            if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
                config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            if let Some(name) = &self.server_name {
                config = config.domain_name(name.clone());
            }
            endpoint = endpoint
                .tls_config(config)
                .map_err(|error| format!("TLS: {error}"))?;
        }
        Ok(endpoint)
    }

    /// One HTTP/2 connection to `url`, opened now.
    pub(crate) async fn connect(&self, url: &str) -> Result<Channel, String> {
        let endpoint = self.endpoint(url)?;
        endpoint.connect().await.map_err(|error| {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            format!("cannot connect to {url}: {text}")
        })
    }
}
