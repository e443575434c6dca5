//! A provider for the process-level tests: configured only by environment
//! variables (`EXHOOK_LISTEN`, `EXHOOK_TLS_*`, `EXHOOK_METRICS_LISTEN`, and
//! `SLOW_PROVIDER_PREFACE_MS` for a shorter HTTP/2 preface timeout than the
//! default 10 s), with an authenticate handler that takes its time for user
//! `slow`.

use std::time::Duration;

use exhook_runtime::*;

#[on_client_authenticate]
async fn authenticate(client: &ClientInfo) -> Decision {
    match client.username.as_str() {
        "slow" => {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Decision::Allow
        }
        "instant" => Decision::Allow,
        _ => Decision::Ignore,
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut server = Server::new(provider![authenticate]);
    if let Some(ms) = std::env::var("SLOW_PROVIDER_PREFACE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        server = server.http2_preface_timeout(Duration::from_millis(ms));
    }
    server.serve().await
}
