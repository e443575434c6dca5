//! Handlers in a crate of edition 2021. A hook attribute turns
//! `async fn f(..) -> T` into `fn f(..) -> impl HandlerFuture<Output = T>`;
//! in this edition such a return type captures only the lifetimes it names,
//! so this crate compiles only if the attribute keeps every lifetime of the
//! arguments in the future, as the `async fn` did: elided references,
//! named lifetimes, and `'_` in a type.

use exhook_runtime::hooks::HookPoint;
use exhook_runtime::prelude::*;

/// The calling client's id, borrowed from the call.
pub struct ClientId<'a>(pub &'a str);

impl<'a, H: HookPoint> FromCall<'a, H> for ClientId<'a> {
    type Rejection = std::convert::Infallible;

    async fn from_call(call: Call<'a, H>) -> Result<Self, Self::Rejection> {
        Ok(ClientId(call.clientid()))
    }
}

/// Clients may publish under their own id only.
#[on_client_authorize]
pub async fn own_topics(
    client: &ClientInfo,
    action: AuthorizeAction,
    request: &ClientAuthorizeRequest,
) -> Decision {
    let own = format!("{}/", client.clientid);
    match action {
        AuthorizeAction::Publish if request.topic.starts_with(&own) => Decision::Allow,
        _ => Decision::Deny,
    }
}

/// Clients whose id starts with `guest` may not connect.
#[on_client_authenticate]
pub async fn no_guests(id: ClientId<'_>) -> Decision {
    if id.0.starts_with("guest") {
        Decision::Deny
    } else {
        Decision::Ignore
    }
}

/// Prefixes every message's payload with the publisher's id.
#[on_message_publish(topic = "#")]
pub async fn sign<'m>(message: &'m Message, id: ClientId<'m>) -> Publish {
    let mut message = message.clone();
    message.payload = [id.0.as_bytes(), b":", &message.payload].concat().into();
    Publish::Continue(message)
}

/// The three handlers.
pub fn server() -> Server {
    Server::new(provider![own_topics, no_guests, sign])
}

#[cfg(test)]
mod tests {
    use super::*;
    use exhook_runtime::testing::{ConnectOutcome, PublishOutcome, TestBroker, Transport};

    #[tokio::test]
    async fn the_handlers_answer_as_written() {
        for transport in [Transport::InProcess, Transport::Grpc(Version::V3)] {
            let broker = TestBroker::builder()
                .transport(transport)
                .provider(server())
                .start()
                .await
                .unwrap();
            assert_eq!(
                broker.client("guest-1").connect().await,
                ConnectOutcome::Denied
            );
            let client = broker.client("c1");
            assert_eq!(client.connect().await, ConnectOutcome::Allowed);
            match client.publish("c1/temp", "21").await {
                PublishOutcome::Published { message, .. } => {
                    assert_eq!(&message.payload[..], b"c1:21");
                }
                other => panic!("c1/temp: {other:?}"),
            }
            assert_eq!(
                client.publish("c2/temp", "21").await,
                PublishOutcome::Denied
            );
        }
    }

    #[tokio::test]
    async fn the_functions_stay_callable() {
        let client = ClientInfo {
            clientid: "c1".into(),
            ..ClientInfo::default()
        };
        let request = ClientAuthorizeRequest {
            topic: "c1/x".into(),
            ..ClientAuthorizeRequest::default()
        };
        assert_eq!(
            own_topics(&client, AuthorizeAction::Publish, &request).await,
            Decision::Allow
        );
        assert_eq!(no_guests(ClientId("guest")).await, Decision::Deny);
    }
}
