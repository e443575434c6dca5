//! `GET /clients`: the table as JSON, for dashboards and scripts.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::table::Presence;

/// Serves the table on `listener` until the process ends.
pub fn serve(listener: TcpListener, presence: Presence) {
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let presence = presence.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    std::future::ready(Ok::<_, Infallible>(answer(&request, &presence)))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn answer<B>(request: &Request<B>, presence: &Presence) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: Vec<u8>| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
    };
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/clients") => {
            let body = serde_json::to_vec(&presence.snapshot()).expect("the table serializes");
            let mut response = reply(StatusCode::OK, body);
            response
                .headers_mut()
                .insert(CONTENT_TYPE, "application/json".parse().unwrap());
            response
        }
        _ => reply(StatusCode::NOT_FOUND, b"GET /clients\n".to_vec()),
    }
}
