use std::rc::Rc;

use exhook_runtime::{on_client_connected, ClientInfo};

async fn save(_name: &str) {}

#[on_client_connected]
async fn connected(client: &ClientInfo) {
    let name = Rc::new(client.clientid.clone());
    save(&name).await;
}

fn main() {}
