//! Text for people (colour only on a terminal, never with `NO_COLOR`) or
//! JSON for scripts.

use std::io::IsTerminal;

use serde_json::Value as Json;

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    pub(crate) json: bool,
    colour: bool,
}

impl Out {
    pub(crate) fn new(json: bool) -> Self {
        let colour =
            !json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Out { json, colour }
    }

    /// Whether standard error is a terminal (for progress bars).
    pub(crate) fn interactive(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn bad(&self, text: &str) -> String {
        self.paint("31;1", text)
    }

    pub(crate) fn warn(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub(crate) fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Prints `value` as one JSON document.
    pub(crate) fn print_json(&self, value: &Json) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }
}
