//! A provider for the process-level tests: configured only by environment
//! variables (`EXHOOK_LISTEN`, `EXHOOK_TLS_*`, `EXHOOK_METRICS_LISTEN`), with
//! an authenticate handler that takes its time for user `slow`.

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
    Server::new(provider![authenticate]).serve().await
}
