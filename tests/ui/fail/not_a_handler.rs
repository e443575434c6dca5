use exhook_runtime::provider;

async fn plain() {}

fn plain_sync(_: u8) -> bool {
    true
}

fn main() {
    let _ = provider![plain];
    let _ = provider![plain_sync];
}
