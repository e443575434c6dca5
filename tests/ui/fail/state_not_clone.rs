use exhook_runtime::prelude::*;

struct Users(Vec<String>);

#[on_client_authenticate]
async fn auth(client: &ClientInfo, State(users): State<Users>) -> Decision {
    if users.0.contains(&client.username) { Decision::Allow } else { Decision::Ignore }
}

fn main() {
    let _ = provider![auth];
}
