use exhook_runtime::{on_client_connected, ClientInfo, Decision};

#[on_client_connected]
async fn connected(_client: &ClientInfo) -> Decision {
    Decision::Allow
}

fn main() {}
