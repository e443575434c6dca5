use exhook_runtime::{on_message_delivered, Message};

#[on_message_delivered(topic = ["ok/+", "sensors/room+/temp"])]
async fn delivered(_msg: &Message) {}

fn main() {}
