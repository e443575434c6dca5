use exhook_runtime::on_session_created;

#[on_session_created]
const async fn created() {}

// Listed, it raises nothing more.
fn main() {
    let _ = exhook_runtime::provider![created];
}
