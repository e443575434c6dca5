use exhook_runtime::prelude::*;

#[on_client_connected]
async fn hello() {}

#[tokio::main]
async fn main() -> Result<(), Error> {
    Server::new(provider![hello hello]).serve().await
}
