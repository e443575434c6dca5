use exhook_runtime::on_client_connected;

#[on_client_connected]
struct Connected;

fn main() {}
