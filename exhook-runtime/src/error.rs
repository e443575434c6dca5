use std::fmt;

/// Why a server could not start or stopped with an error.
///
/// `Display` says what failed; the error that caused it, if any, is its
/// [`source`](std::error::Error::source) (an I/O error, rustls', the topic
/// rule broken), so that `anyhow` and `tracing` print each once. `Debug`
/// prints the sentence and then its causes, as `anyhow` does, so that
/// `fn main() -> Result<(), Error>` reports it readably:
///
/// ```text
/// Error: cannot listen on 127.0.0.1:9000
///
/// Caused by:
///     Address already in use (os error 98)
/// ```
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
    #[deprecated(
        note = "no longer returned: TLS errors are `Error::TlsSetup`, with what failed and why"
    )]
    Tls(String),
    /// TLS could not be set up: a file, its PEM, the certificates in it, or
    /// the environment variables naming them.
    TlsSetup {
        /// What failed, such as `reading /etc/exhook/key.pem` or
        /// `server certificate: no PEM certificate found`.
        what: String,
        /// The error that made it fail, if another one did: an I/O error,
        /// rustls' or its PEM parser's error.
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
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
            source: Some(source.into()),
        }
    }

    /// A TLS set-up error that `what` describes whole.
    pub(crate) fn tls_setting(what: impl Into<String>) -> Error {
        Error::TlsSetup {
            what: what.into(),
            source: None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ListenAddress { value, reason } => {
                write!(f, "invalid listen address {value:?}: {reason}")
            }
            Error::Bind { address, .. } => write!(f, "cannot listen on {address}"),
            Error::MissingState { handler, type_name } => write!(
                f,
                "handler `{handler}` takes `State<{type_name}>`, but the server has no such state; add `.state(value)` to the `Server`"
            ),
            Error::InvalidTopic {
                handler, filter, ..
            } => write!(f, "handler `{handler}`: invalid topic filter {filter:?}"),
            Error::UnlistedHandler { handler } => write!(
                f,
                "`Server::topics` names handler `{handler}`, which is not in the server's `provider![..]` list"
            ),
            #[allow(deprecated)]
            Error::Tls(reason) => write!(f, "TLS: {reason}"),
            Error::TlsSetup { what, .. } => write!(f, "TLS: {what}"),
            Error::Transport(_) => write!(f, "gRPC server error"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. } => Some(source),
            Error::InvalidTopic { source, .. } => Some(source),
            Error::TlsSetup { source, .. } => source.as_deref().map(|source| source as _),
            Error::Transport(source) => Some(source),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        let mut cause = std::error::Error::source(self);
        if cause.is_some() {
            f.write_str("\n\nCaused by:")?;
        }
        while let Some(error) = cause {
            write!(f, "\n    {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn display_says_what_failed_and_debug_adds_each_cause_once() {
        let error = Error::Bind {
            address: "127.0.0.1:9000".into(),
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use"),
        };
        assert_eq!(error.to_string(), "cannot listen on 127.0.0.1:9000");
        assert_eq!(
            format!("{error:?}"),
            "cannot listen on 127.0.0.1:9000\n\nCaused by:\n    address in use"
        );
        let error = Error::MissingState {
            handler: "app::auth",
            type_name: "app::Users",
        };
        assert_eq!(format!("{error:?}"), error.to_string());
        let error = Error::tls_setting("server certificate: no PEM certificate found");
        assert!(std::error::Error::source(&error).is_none());
        assert_eq!(
            format!("{error:?}"),
            "TLS: server certificate: no PEM certificate found"
        );
    }
}
