use exhook_runtime::{on_message_publish, Publish};

#[on_message_publish(topic = "sensors/#/temp")]
async fn store() -> Publish {
    Publish::Ignore
}

fn main() {}
