use exhook_runtime::{on_client_connected, ClientInfo};

#[on_client_connected]
fn connected(_client: &ClientInfo) {}

fn main() {}
