use std::fmt;

/// Why a server could not start or stopped with an error.
///
/// `Debug` prints the same sentence as `Display`, so that
/// `fn main() -> Result<(), Error>` reports it readably.
#[non_exhaustive]
pub enum Error {
    /// `EXHOOK_LISTEN` or the given address is not `host:port`.
    ListenAddress {
        /// The text that was given.
        value: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The listening socket could not be opened.
    Bind {
        /// The address.
        address: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A handler takes `State<T>` and no `T` was given to the server.
    MissingState {
        /// The handler's path.
        handler: &'static str,
        /// The state type.
        type_name: &'static str,
    },
    /// A handler's topic filter is invalid.
    InvalidTopic {
        /// The handler's path.
        handler: &'static str,
        /// The filter.
        filter: &'static str,
        /// Which rule it breaks.
        source: exhook_topic::FilterError,
    },
    /// [`Server::topics`](crate::Server::topics) names a handler the
    /// provider does not list.
    UnlistedHandler {
        /// The handler's path.
        handler: &'static str,
    },
    /// TLS is configured wrongly.
    #[deprecated(note = "no longer returned: TLS errors are `Error::TlsSetup`, with a source")]
    Tls(String),
    /// TLS could not be set up: a file, its PEM, the certificates in it, or
    /// the environment variables naming them.
    TlsSetup {
        /// What was being set up, such as `server certificate` or
        /// `EXHOOK_TLS_KEY`.
        what: String,
        /// Why it failed: an I/O error, rustls' or its PEM parser's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The gRPC server failed.
    Transport(tonic::transport::Error),
}

impl Error {
    /// A TLS set-up error: `what` failed because of `source`.
    pub(crate) fn tls(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::TlsSetup {
            what: what.into(),
            source: source.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ListenAddress { value, reason } => {
                write!(f, "invalid listen address {value:?}: {reason}")
            }
            Error::Bind { address, source } => write!(f, "cannot listen on {address}: {source}"),
            Error::MissingState { handler, type_name } => write!(
                f,
                "handler `{handler}` takes `State<{type_name}>`, but the server has no such state; add `.state(value)` to the `Server`"
            ),
            Error::InvalidTopic {
                handler,
                filter,
                source,
            } => write!(f, "handler `{handler}`: topic filter {filter:?}: {source}"),
            Error::UnlistedHandler { handler } => write!(
                f,
                "`Server::topics` names handler `{handler}`, which is not in the server's `provider![..]` list"
            ),
            #[allow(deprecated)]
            Error::Tls(reason) => write!(f, "TLS: {reason}"),
            Error::TlsSetup { what, source } => write!(f, "TLS: {what}: {source}"),
            Error::Transport(source) => write!(f, "gRPC server error: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. } => Some(source),
            Error::InvalidTopic { source, .. } => Some(source),
            Error::TlsSetup { source, .. } => Some(source.as_ref()),
            Error::Transport(source) => Some(source),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
