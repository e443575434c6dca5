//! `exhook-runtime` depended on as `hooks`: nothing here can name
//! `exhook_runtime`, so this compiles only if the macros honour `crate = "…"`.

use hooks::{ClientInfo, Publish};

#[hooks::on_client_connected(crate = "hooks")]
async fn connected(client: &ClientInfo) {
    let _ = client;
}

#[hooks::on_message_publish(crate = "::hooks", topic = "x/#")]
async fn publish() -> Publish {
    Publish::Ignore
}

/// The provider, built through the renamed path.
pub fn provider() -> hooks::Provider {
    hooks::provider![crate = "hooks"; connected, publish]
}

#[test]
fn renamed_dependency_works() {
    use hooks::Hook;

    let hooks = provider().hooks();
    assert!(hooks.contains(Hook::ClientConnected));
    assert_eq!(hooks.topics(Hook::MessagePublish), Some(vec!["x/#"]));
}
