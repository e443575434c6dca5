use exhook_runtime::{on_message_publish, Publish};

#[on_message_publish(topic = "$share/group/jobs/#")]
async fn jobs() -> Publish {
    Publish::Ignore
}

fn main() {}
