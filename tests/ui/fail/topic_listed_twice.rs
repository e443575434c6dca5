use exhook_runtime::{on_client_authorize, Decision};

#[on_client_authorize(topic = ["a/#", "b/+", "a/#"])]
async fn acl() -> Decision {
    Decision::Ignore
}

fn main() {}
