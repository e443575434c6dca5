use exhook_runtime::prelude::*;

#[on_client_connect]
async fn connect(_: &ConnInfo) {}

mod handlers {}

fn main() {
    let _ = provider![conect];
    let _ = provider![handlers::connect];
}
