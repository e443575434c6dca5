//! `GET /clients`: the table as JSON, for dashboards and scripts.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use super::table::{Entry, Presence};

/// The HTTP routes: `GET /clients`.
pub fn router(presence: Presence) -> Router {
    Router::new()
        .route("/clients", get(clients))
        .with_state(presence)
}

async fn clients(State(presence): State<Presence>) -> Json<BTreeMap<String, Entry>> {
    Json(presence.snapshot())
}

/// Serves the table on `listener` until the process ends.
pub fn serve(listener: TcpListener, presence: Presence) {
    let server = axum::serve(listener, router(presence));
    tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!("table endpoint: {error}");
        }
    });
}
