use exhook_runtime::prelude::*;

struct Users;

#[on_client_connect]
async fn connect(_: &ConnInfo) {}

fn main() {
    let _ = provider![connect, Users];
}
