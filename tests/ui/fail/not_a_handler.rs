use exhook_runtime::provider;

async fn plain() {}

fn main() {
    let _ = provider![plain];
}
