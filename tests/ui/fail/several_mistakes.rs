use exhook_runtime::{on_message_publish, Publish};

#[on_message_publish(topic = "a/#/b", retries = 3)]
fn store<T>(_value: T) -> Publish {
    Publish::Ignore
}

fn main() {}
