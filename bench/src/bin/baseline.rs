//! The hand-written provider as a server: `EXHOOK_LISTEN`, default
//! `127.0.0.1:9000`.

use exhook_bench::baseline::Baseline;
use exhook_bench::proto::hook_provider_server::HookProviderServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::var("EXHOOK_LISTEN").unwrap_or_else(|_| "127.0.0.1:9000".to_owned());
    let address = tokio::net::lookup_host(&address)
        .await?
        .next()
        .ok_or("no address")?;
    eprintln!("baseline serving on {address}");
    tonic::transport::Server::builder()
        .add_service(HookProviderServer::new(Baseline))
        .serve_with_shutdown(address, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
