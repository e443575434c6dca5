use exhook_runtime::on_session_subscribed;

#[on_session_subscribed(topic = 42)]
async fn subscribed() {}

fn main() {}
