//! What every example application sets up the same way.
//!
//! * [`init_logging`]: `tracing` to standard error, filtered by `RUST_LOG`
//!   (default `info`).
//! * [`topic_filter`]: a `clap` value parser for topic filters; with
//!   `value_delimiter = ','` it reads comma-separated lists such as
//!   `PERSIST_TOPICS='sensors/#,alarms/+'`:
//!
//! ```
//! use exhook_runtime::TopicFilter;
//!
//! let filters: Vec<TopicFilter> = "sensors/#, alarms/+"
//!     .split(',')
//!     .map(exhook_app_support::topic_filter)
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(filters[1].as_str(), "alarms/+");
//! assert!(exhook_app_support::topic_filter("a/#/b").is_err());
//! ```

#![warn(missing_docs)]

use std::io::IsTerminal;

use exhook_runtime::{TopicFilter, TopicFilterError};
use tracing_subscriber::EnvFilter;

/// Logs through `tracing` to standard error, at the levels `RUST_LOG` names
/// (default `info`), in colour only on a terminal.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// One topic filter of a list, surrounding spaces ignored; checked with
/// MQTT's and EMQX's rules.
pub fn topic_filter(text: &str) -> Result<TopicFilter, TopicFilterError> {
    TopicFilter::new(text.trim())
}
