//! Lints about a handler point at the function as written.
#![deny(dead_code, missing_docs, unreachable_pub)]

mod private {
    use exhook_runtime::prelude::*;

    /// Documented.
    #[on_client_connected]
    pub async fn connected(_client: &ClientInfo) {}
}

/// Handlers.
pub mod public {
    use exhook_runtime::prelude::*;

    #[on_client_connected]
    pub async fn undocumented(_client: &ClientInfo) {}

    /// Listed nowhere.
    #[on_session_created]
    pub(crate) async fn forgotten() {}
}

fn main() {
    let _ = exhook_runtime::provider![private::connected, public::undocumented];
}
