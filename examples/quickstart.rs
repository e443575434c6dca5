use exhook_runtime::prelude::*;

#[on_client_authenticate]
async fn auth(client: &ClientInfo) -> Decision {
    match (client.username.as_str(), client.password.as_str()) {
        ("demo", "demo") => Decision::Allow,
        _ => Decision::Deny,
    }
}

#[on_message_publish(topic = "sensors/#")]
async fn shout(mut msg: Message) -> Publish {
    msg.payload = msg.payload.to_ascii_uppercase().into();
    Publish::Continue(msg)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    Server::new(provider![auth, shout]).serve().await
}
