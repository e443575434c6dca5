use exhook_runtime::{on_client_authenticate, ClientInfo, Decision};

struct Auth;

impl Auth {
    #[on_client_authenticate]
    async fn check(&self, _client: &ClientInfo) -> Decision {
        Decision::Ignore
    }
}

fn main() {}
