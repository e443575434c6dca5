use exhook_runtime::{on_client_connect, ConnInfo};

#[on_client_connect(topic = "a/#")]
async fn connect(_conn: &ConnInfo) {}

fn main() {}
