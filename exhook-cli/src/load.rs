//! Loading a provider as EMQX does, and asking its health service.

use std::time::{Duration, Instant};

use exhook_hooks::{Hook, Version};
use exhook_runtime::proto::v3::LoadedResponse;
use prost::Message as _;
use serde_json::{Value as Json, json};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::emqx::{self, Loaded};
use crate::request::{self, Event};
use crate::wire;

/// One `OnProviderLoaded` call.
#[derive(Debug)]
pub(crate) struct Attempt {
    pub(crate) version: Version,
    pub(crate) rtt: Duration,
    pub(crate) answer: Result<Loaded, Status>,
}

impl Attempt {
    pub(crate) fn json(&self) -> Json {
        match &self.answer {
            Ok(loaded) => json!({
                "version": self.version.to_string(), "answers": true, "rtt_ms": ms(self.rtt),
                "hooks": loaded.json(), "load_fails": loaded.fails,
            }),
            Err(status) => json!({
                "version": self.version.to_string(), "answers": false, "rtt_ms": ms(self.rtt),
                "error": emqx::failure(status),
            }),
        }
    }
}

/// Milliseconds with three decimals, for JSON.
pub(crate) fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// Calls `OnProviderLoaded` on `version` and reads the hooks as EMQX does.
pub(crate) async fn load(
    channel: &Channel,
    version: Version,
    event: &Event,
    timeout: Duration,
) -> Attempt {
    let body = request::encode(Hook::ProviderLoaded, version, event);
    let start = Instant::now();
    let outcome = wire::unary(
        channel,
        wire::path(Hook::ProviderLoaded, version),
        body,
        timeout,
    )
    .await;
    let rtt = start.elapsed();
    let answer = outcome.and_then(|bytes| {
        LoadedResponse::decode(bytes)
            .map(|answer| emqx::resolve_hooks(version, &answer))
            .map_err(|error| Status::internal(format!("undecodable LoadedResponse: {error}")))
    });
    Attempt {
        version,
        rtt,
        answer,
    }
}

/// Loads on `version`, or with `None` on the newest generation that
/// answers (v3, then v2, then v1). Returns every attempt made, the one
/// used last.
pub(crate) async fn load_any(
    channel: &Channel,
    version: Option<Version>,
    event: &Event,
    timeout: Duration,
) -> Vec<Attempt> {
    let order = match version {
        Some(version) => vec![version],
        None => vec![Version::V3, Version::V2, Version::V1],
    };
    let mut attempts = Vec::new();
    for version in order {
        let attempt = load(channel, version, event, timeout).await;
        let answered = attempt.answer.is_ok();
        attempts.push(attempt);
        if answered {
            break;
        }
    }
    attempts
}

/// What the provider's `grpc.health.v1.Health` says about a service.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Health {
    Serving,
    NotServing(String),
    /// No health service (`UNIMPLEMENTED`), or it does not know the service.
    Missing(String),
    Failed(String),
}

impl Health {
    pub(crate) fn label(&self) -> String {
        match self {
            Health::Serving => "SERVING".to_owned(),
            Health::NotServing(status) => status.clone(),
            Health::Missing(why) => format!("no health service ({why})"),
            Health::Failed(why) => format!("failed ({why})"),
        }
    }

    pub(crate) fn json(&self) -> Json {
        match self {
            Health::Serving => json!({ "status": "SERVING" }),
            Health::NotServing(status) => json!({ "status": status }),
            Health::Missing(why) => json!({ "status": "MISSING", "detail": why }),
            Health::Failed(why) => json!({ "status": "FAILED", "detail": why }),
        }
    }
}

/// Asks `grpc.health.v1.Health/Check` about `service` ("" for the server).
pub(crate) async fn health(channel: &Channel, service: &str, timeout: Duration) -> Health {
    let mut client = HealthClient::new(channel.clone());
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: service.to_owned(),
    });
    request.set_timeout(timeout);
    match tokio::time::timeout(timeout, client.check(request)).await {
        Err(_) => Health::Failed("no answer within the timeout".to_owned()),
        Ok(Ok(answer)) => match answer.into_inner().status() {
            ServingStatus::Serving => Health::Serving,
            other => Health::NotServing(other.as_str_name().to_owned()),
        },
        Ok(Err(status)) if status.code() == Code::Unimplemented => {
            Health::Missing(emqx::failure(&status))
        }
        Ok(Err(status)) if status.code() == Code::NotFound => {
            Health::Missing(format!("unknown service `{service}`"))
        }
        Ok(Err(status)) => Health::Failed(emqx::failure(&status)),
    }
}
