use exhook_runtime::on_session_created;

#[on_session_created]
const async fn created() {}

fn main() {}
