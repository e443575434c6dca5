//! `tenants`: the gateway for tenants `a` and `b`, 100 messages per client
//! and second; serves on `EXHOOK_LISTEN` (default `127.0.0.1:9000`).

use std::time::Duration;

use tenants::{RateLimit, Usage};

#[tokio::main]
async fn main() -> Result<(), exhook_runtime::Error> {
    let tenants = ["a", "b"].map(str::to_owned).into_iter().collect();
    let limit = RateLimit::new(100, Duration::from_secs(1));
    tenants::server(std::sync::Arc::new(tenants), Usage::default(), limit)
        .serve()
        .await
}
