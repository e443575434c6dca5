//! The hand-written provider the framework is measured against: tonic's
//! generated `HookProvider` trait implemented directly, with tonic's
//! defaults, doing the benchmark's work: `message.publish` on `sensors/#`
//! answers CONTINUE with the received message, anything else IGNORE;
//! authenticate allows the user `bench`.

use tonic::{Request, Response, Status};

use crate::proto::hook_provider_server::HookProvider;
use crate::proto::valued_response::{ResponsedType, Value};
use crate::proto::*;

/// The hand-written provider.
#[derive(Debug, Default, Clone, Copy)]
pub struct Baseline;

fn ignore() -> ValuedResponse {
    ValuedResponse {
        r#type: ResponsedType::Ignore as i32,
        value: None,
    }
}

fn empty() -> Result<Response<EmptySuccess>, Status> {
    Ok(Response::new(EmptySuccess {}))
}

/// `sensors/#`: the level `sensors` and everything below it.
fn is_sensor_topic(topic: &str) -> bool {
    topic == "sensors" || topic.starts_with("sensors/")
}

#[tonic::async_trait]
impl HookProvider for Baseline {
    async fn on_provider_loaded(
        &self,
        _: Request<ProviderLoadedRequest>,
    ) -> Result<Response<LoadedResponse>, Status> {
        Ok(Response::new(LoadedResponse {
            hooks: vec![
                HookSpec {
                    name: "client.authenticate".into(),
                    topics: vec![],
                },
                HookSpec {
                    name: "message.publish".into(),
                    topics: vec!["sensors/#".into()],
                },
            ],
        }))
    }

    async fn on_provider_unloaded(
        &self,
        _: Request<ProviderUnloadedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_client_connect(
        &self,
        _: Request<ClientConnectRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_client_connack(
        &self,
        _: Request<ClientConnackRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_client_connected(
        &self,
        _: Request<ClientConnectedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_client_disconnected(
        &self,
        _: Request<ClientDisconnectedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_client_authenticate(
        &self,
        request: Request<ClientAuthenticateRequest>,
    ) -> Result<Response<ValuedResponse>, Status> {
        let allowed = request
            .get_ref()
            .clientinfo
            .as_ref()
            .is_some_and(|c| c.username == "bench");
        Ok(Response::new(if allowed {
            ValuedResponse {
                r#type: ResponsedType::StopAndReturn as i32,
                value: Some(Value::BoolResult(true)),
            }
        } else {
            ignore()
        }))
    }

    async fn on_client_authorize(
        &self,
        _: Request<ClientAuthorizeRequest>,
    ) -> Result<Response<ValuedResponse>, Status> {
        Ok(Response::new(ignore()))
    }

    async fn on_client_subscribe(
        &self,
        _: Request<ClientSubscribeRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_client_unsubscribe(
        &self,
        _: Request<ClientUnsubscribeRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_created(
        &self,
        _: Request<SessionCreatedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_subscribed(
        &self,
        _: Request<SessionSubscribedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_unsubscribed(
        &self,
        _: Request<SessionUnsubscribedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_resumed(
        &self,
        _: Request<SessionResumedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_discarded(
        &self,
        _: Request<SessionDiscardedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_takenover(
        &self,
        _: Request<SessionTakenoverRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_session_terminated(
        &self,
        _: Request<SessionTerminatedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_message_publish(
        &self,
        request: Request<MessagePublishRequest>,
    ) -> Result<Response<ValuedResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(match request.message {
            Some(message) if is_sensor_topic(&message.topic) => ValuedResponse {
                r#type: ResponsedType::Continue as i32,
                value: Some(Value::Message(message)),
            },
            _ => ignore(),
        }))
    }

    async fn on_message_delivered(
        &self,
        _: Request<MessageDeliveredRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_message_dropped(
        &self,
        _: Request<MessageDroppedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }

    async fn on_message_acked(
        &self,
        _: Request<MessageAckedRequest>,
    ) -> Result<Response<EmptySuccess>, Status> {
        empty()
    }
}
