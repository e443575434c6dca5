use exhook_runtime::{on_client_connected, provider};

mod hooks {
    #[exhook_runtime::on_client_connected]
    pub async fn connected() {}
}

#[on_client_connected]
async fn other() {}

fn main() {
    let _ = provider![hooks::connected, other, self::hooks::connected];
}
