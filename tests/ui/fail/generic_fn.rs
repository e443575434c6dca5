use exhook_runtime::{on_client_authenticate, Decision};

#[on_client_authenticate]
async fn auth<T: Default>(_value: T) -> Decision {
    Decision::Ignore
}

// Listed, it raises nothing more.
fn main() {
    let _ = exhook_runtime::provider![auth];
}
