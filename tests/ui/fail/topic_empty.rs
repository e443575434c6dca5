use exhook_runtime::{on_message_acked};

#[on_message_acked(topic = "")]
async fn acked() {}

fn main() {}
