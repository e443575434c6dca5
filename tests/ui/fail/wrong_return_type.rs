use exhook_runtime::{on_message_publish, provider, Message};

#[on_message_publish(topic = "sensors/#")]
async fn store(msg: &Message) -> bool {
    !msg.payload.is_empty()
}

fn main() {
    let _ = provider![store];
}
