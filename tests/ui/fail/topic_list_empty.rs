use exhook_runtime::on_session_subscribed;

#[on_session_subscribed(topic = [])]
async fn subscribed() {}

fn main() {}
