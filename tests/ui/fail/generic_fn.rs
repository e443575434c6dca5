use exhook_runtime::{on_client_authenticate, Decision};

#[on_client_authenticate]
async fn auth<T: Default>(_value: T) -> Decision {
    Decision::Ignore
}

fn main() {}
