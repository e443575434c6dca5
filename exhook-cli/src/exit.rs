//! Exit codes, usable in scripts and probes.

use std::process::ExitCode;

use serde_json::json;

use crate::output::Out;

/// A process exit status.
pub(crate) type Exit = u8;

/// All went well: the provider loads (probe), the call was answered (call),
/// no protocol problem (check).
pub(crate) const OK: Exit = 0;
/// The provider answered, but with problems: it does not load, is not
/// serving, broke the protocol, or the call failed.
pub(crate) const PROBLEMS: Exit = 1;
/// Bad usage (clap's own code for it).
pub(crate) const USAGE: Exit = 2;
/// The provider could not be reached at all.
pub(crate) const UNREACHABLE: Exit = 3;

/// Reports that the provider cannot be reached.
pub(crate) fn unreachable(out: Out, error: &str) -> Exit {
    if out.json {
        out.print_json(&json!({ "error": error, "reachable": false }));
    } else {
        eprintln!("exhook: {error}");
    }
    UNREACHABLE
}

/// Reports bad input.
pub(crate) fn usage(error: &str) -> Exit {
    eprintln!("exhook: {error}");
    USAGE
}

pub(crate) fn code(exit: Exit) -> ExitCode {
    ExitCode::from(exit)
}
