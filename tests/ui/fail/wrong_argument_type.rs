use exhook_runtime::{on_client_authenticate, provider, ConnInfo, Decision};

#[on_client_authenticate]
async fn auth(conn: &ConnInfo) -> Decision {
    if conn.username.is_empty() { Decision::Deny } else { Decision::Ignore }
}

fn main() {
    let _ = provider![auth];
}
