use exhook_runtime::{on_client_connected, provider};

#[on_client_connected]
async fn connected() {}

fn main() {
    let _ = provider![connected, connected];
}
