use std::sync::Arc;

use exhook_runtime::event::*;
use exhook_runtime::*;

struct Db;

#[on_provider_loaded]
async fn loaded(_broker: &BrokerInfo, _meta: &RequestMeta) -> Advertise {
    Advertise::All
}
#[on_provider_unloaded]
async fn unloaded(_meta: RequestMeta) {}
#[on_client_connect]
async fn connect(_conn: &ConnInfo, _request: &ClientConnectRequest) {}
#[on_client_connack]
async fn connack(_conn: ConnInfo) -> Result<(), String> {
    Ok(())
}
#[on_client_connected]
async fn connected(_client: &ClientInfo, _version: Version) {}
#[on_client_disconnected]
async fn disconnected(_request: ClientDisconnectedRequest) {}
#[on_client_authenticate]
async fn authenticate(
    _client: &ClientInfo,
    ChainResult(_so_far): ChainResult,
    State(_db): State<Arc<Db>>,
) -> Decision {
    Decision::Ignore
}
#[on_client_authorize(topic = ["private/#", "+/admin"])]
async fn authorize(
    _action: AuthorizeAction,
    _request: &ClientAuthorizeRequest,
) -> Result<Decision, std::io::Error> {
    Ok(Decision::Deny)
}
#[on_client_subscribe(topic = "jobs/#")]
async fn subscribe(_request: &ClientSubscribeRequest) {}
#[on_client_unsubscribe]
async fn unsubscribe(_request: &ClientUnsubscribeRequest) {}
#[on_session_created]
async fn created() {}
#[on_session_subscribed(topic = "$SYS/#")]
async fn subscribed(_opts: &SubOpts) {}
#[on_session_unsubscribed]
async fn unsubscribed(_request: &SessionUnsubscribedRequest) {}
#[on_session_resumed]
async fn resumed(_client: ClientInfo) {}
#[on_session_discarded]
async fn discarded() {}
#[on_session_takenover]
async fn takenover() {}
#[on_session_terminated]
async fn terminated(_request: &SessionTerminatedRequest) {}
#[on_message_publish(topic = ["sensors/#", "+/status", "$SYS"])]
async fn publish(msg: Message, _meta: &RequestMeta) -> Publish {
    Publish::Continue(msg)
}
#[on_message_delivered(topic = "a/+/c")]
async fn delivered(_client: &ClientInfo, _msg: &Message) {}
#[on_message_dropped]
async fn dropped(_request: &MessageDroppedRequest, _msg: Message) {}
#[on_message_acked]
async fn acked(_msg: &Message) {}

fn main() {
    let provider = provider![
        loaded,
        unloaded,
        connect,
        connack,
        connected,
        disconnected,
        authenticate,
        authorize,
        subscribe,
        unsubscribe,
        created,
        subscribed,
        unsubscribed,
        resumed,
        discarded,
        takenover,
        terminated,
        publish,
        delivered,
        dropped,
        acked,
    ];
    assert_eq!(provider.hooks().len(), 19);
    let _server = Server::new(provider).state(Arc::new(Db));
}
