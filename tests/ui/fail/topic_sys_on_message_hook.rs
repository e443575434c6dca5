use exhook_runtime::{on_message_publish, Publish};

#[on_message_publish(topic = "$SYS/brokers/#")]
async fn sys() -> Publish {
    Publish::Ignore
}

fn main() {}
