use exhook_runtime::{on_client_connected, ClientInfo};

#[on_client_connected]
fn connected(_client: &ClientInfo) {}

// Listed, it raises nothing more.
fn main() {
    let _ = exhook_runtime::provider![connected];
}
