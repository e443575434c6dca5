//! The few lines the server itself reports.

use std::fmt::Arguments;

/// Reports a lifecycle event (start, load, unload): through `tracing` when
/// the application installed a subscriber, else on standard error, so that
/// the load line shows up even in a program that set up no logging.
pub(crate) fn announce(line: Arguments<'_>) {
    if tracing::dispatcher::has_been_set() {
        tracing::info!(target: "exhook", "{line}");
    } else {
        eprintln!("exhook: {line}");
    }
}

/// Reports a problem with the server's settings or resources, the same way.
pub(crate) fn warn(line: Arguments<'_>) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!(target: "exhook", "{line}");
    } else {
        eprintln!("exhook: warning: {line}");
    }
}
