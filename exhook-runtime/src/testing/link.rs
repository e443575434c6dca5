//! How the test broker reaches one provider: in process, or over gRPC with
//! one protocol version.

use std::sync::Arc;
use std::time::Duration;

use tonic::Status;
use tonic::transport::Channel;

use crate::dispatch::Dispatcher;
use crate::event::*;
use crate::hook::Hook;
use crate::proto::{v1, v3};
use crate::shutdown::ShutdownHandle;
use crate::supervise::Supervised;
use crate::version::Version;

/// One provider as the broker sees it.
pub(crate) enum Link {
    InProcess {
        dispatcher: Arc<Dispatcher>,
        version: Version,
        down: bool,
    },
    Grpc {
        channel: Channel,
        version: Version,
        stop: ShutdownHandle,
        task: Option<tokio::task::JoinHandle<Result<(), crate::Error>>>,
    },
}

impl Link {
    /// Takes the provider down: later calls fail as calls to a stopped
    /// provider do.
    pub(crate) async fn stop(&mut self) {
        match self {
            Link::InProcess { down, .. } => *down = true,
            Link::Grpc { stop, task, .. } => {
                stop.shutdown();
                if let Some(task) = task.take() {
                    let _ = task.await;
                }
            }
        }
    }
}

/// The rpc name of `hook` in `version`.
fn rpc_name(hook: Hook, version: Version) -> &'static str {
    match (hook, version) {
        (Hook::ClientAuthorize, Version::V1) => "OnClientCheckAcl",
        (Hook::SessionTakenover, Version::V1) => "OnSessionTakeovered",
        (Hook::ProviderLoaded, _) => "OnProviderLoaded",
        (Hook::ProviderUnloaded, _) => "OnProviderUnloaded",
        (Hook::ClientConnect, _) => "OnClientConnect",
        (Hook::ClientConnack, _) => "OnClientConnack",
        (Hook::ClientConnected, _) => "OnClientConnected",
        (Hook::ClientDisconnected, _) => "OnClientDisconnected",
        (Hook::ClientAuthenticate, _) => "OnClientAuthenticate",
        (Hook::ClientAuthorize, _) => "OnClientAuthorize",
        (Hook::ClientSubscribe, _) => "OnClientSubscribe",
        (Hook::ClientUnsubscribe, _) => "OnClientUnsubscribe",
        (Hook::SessionCreated, _) => "OnSessionCreated",
        (Hook::SessionSubscribed, _) => "OnSessionSubscribed",
        (Hook::SessionUnsubscribed, _) => "OnSessionUnsubscribed",
        (Hook::SessionResumed, _) => "OnSessionResumed",
        (Hook::SessionDiscarded, _) => "OnSessionDiscarded",
        (Hook::SessionTakenover, _) => "OnSessionTakenover",
        (Hook::SessionTerminated, _) => "OnSessionTerminated",
        (Hook::MessagePublish, _) => "OnMessagePublish",
        (Hook::MessageDelivered, _) => "OnMessageDelivered",
        (Hook::MessageDropped, _) => "OnMessageDropped",
        (Hook::MessageAcked, _) => "OnMessageAcked",
    }
}

/// One unary call over gRPC, as EMQX makes it: `grpc-timeout` set to the
/// request timeout, and the caller giving up at that deadline too.
async fn grpc_call<Req, Resp>(
    channel: &Channel,
    version: Version,
    hook: Hook,
    request: Req,
    timeout: Duration,
) -> Result<Resp, Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    let path = format!("/{}/{}", version.service_name(), rpc_name(hook, version));
    let path = http::uri::PathAndQuery::try_from(path)
        .map_err(|error| Status::internal(error.to_string()))?;
    let mut request = tonic::Request::new(request);
    request.set_timeout(timeout);
    let call = grpc.unary(
        request,
        path,
        tonic_prost::ProstCodec::<Req, Resp>::default(),
    );
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => result.map(tonic::Response::into_inner),
        Err(_) => Err(Status::deadline_exceeded("request_timeout elapsed")),
    }
}

/// The v1 form of the four requests whose layout changed after EMQX 4.
fn loaded_v1(request: &ProviderLoadedRequest) -> v1::ProviderLoadedRequest {
    v1::ProviderLoadedRequest {
        broker: Some(v1::BrokerInfo {
            version: request.broker.version.clone(),
            sysdescr: request.broker.sysdescr.clone(),
            uptime: match &request.broker.uptime {
                Uptime::Text(text) => text.clone(),
                Uptime::Millis(ms) => format!("{} seconds", ms / 1000),
            },
            datetime: request.broker.datetime.clone(),
        }),
        meta: Some(meta_v1(&request.meta)),
    }
}

fn meta_v1(meta: &RequestMeta) -> v1::RequestMeta {
    v1::RequestMeta {
        node: meta.node.clone(),
        version: meta.version.clone(),
        sysdescr: meta.sysdescr.clone(),
        cluster_name: meta.cluster_name.clone(),
    }
}

fn clientinfo_v1(info: &ClientInfo) -> v1::ClientInfo {
    v1::ClientInfo {
        node: info.node.clone(),
        clientid: info.clientid.clone(),
        username: info.username.clone(),
        password: info.password.clone(),
        peerhost: info.peerhost.clone(),
        sockport: info.sockport,
        protocol: info.protocol.clone(),
        mountpoint: info.mountpoint.clone(),
        is_superuser: info.is_superuser,
        anonymous: info.anonymous,
        cn: info.cn.clone(),
        dn: info.dn.clone(),
    }
}

fn filters_v1(filters: &[SubscriptionFilter]) -> Vec<v1::TopicFilter> {
    filters
        .iter()
        .map(|f| v1::TopicFilter {
            name: f.name.clone(),
            qos: f.subopts.unwrap_or_default().qos,
        })
        .collect()
}

macro_rules! subscription_v1 {
    ($request:expr, $ty:ident) => {
        v1::$ty {
            clientinfo: $request.clientinfo.as_ref().map(clientinfo_v1),
            props: $request
                .props
                .iter()
                .map(|p| v1::Property {
                    name: p.name.clone(),
                    value: p.value.clone(),
                })
                .collect(),
            topic_filters: filters_v1(&$request.topic_filters),
            meta: $request.meta.as_ref().map(meta_v1),
        }
    };
}

/// EMQX 4 names the share group apart from the filter.
fn session_subscribed_v1(request: &SessionSubscribedRequest) -> v1::SessionSubscribedRequest {
    let opts = request.subopts.unwrap_or_default();
    let (share, topic) = match request
        .topic
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((group, topic)) => (group.to_owned(), topic.to_owned()),
        None => (String::new(), request.topic.clone()),
    };
    v1::SessionSubscribedRequest {
        clientinfo: request.clientinfo.as_ref().map(clientinfo_v1),
        topic,
        subopts: Some(v1::SubOpts {
            qos: opts.qos,
            share,
            rh: opts.rh,
            rap: opts.rap,
            nl: opts.nl,
        }),
        meta: request.meta.as_ref().map(meta_v1),
    }
}

/// Per hook: call the provider in process (under the server's deadline and
/// panic guard) or over gRPC.
macro_rules! link_calls {
    ($($method:ident($hook:ident, $req:ty) -> $resp:ty $(, v1: $v1:expr)?;)*) => {
        impl Link {
            $(
                pub(crate) async fn $method(&self, request: $req, timeout: Duration) -> Result<$resp, Status> {
                    match self {
                        Link::InProcess { down: true, .. } => Err(Status::unavailable("the provider is stopped")),
                        Link::InProcess { dispatcher, version, .. } => {
                            let call = dispatcher.clone().$method(request, *version);
                            Supervised::new(call, Hook::$hook, Some(timeout), &dispatcher.supervision)
                                .await
                                .map(tonic::Response::into_inner)
                        }
                        Link::Grpc { channel, version, .. } => {
                            $(
                                if *version == Version::V1 {
                                    let convert: fn(&$req) -> _ = $v1;
                                    return grpc_call::<_, $resp>(channel, *version, Hook::$hook, convert(&request), timeout).await;
                                }
                            )?
                            grpc_call::<_, $resp>(channel, *version, Hook::$hook, request, timeout).await
                        }
                    }
                }
            )*
        }
    };
}

link_calls! {
    on_provider_unloaded(ProviderUnloaded, ProviderUnloadedRequest) -> v3::EmptySuccess;
    on_client_connect(ClientConnect, ClientConnectRequest) -> v3::EmptySuccess;
    on_client_connack(ClientConnack, ClientConnackRequest) -> v3::EmptySuccess;
    on_client_connected(ClientConnected, ClientConnectedRequest) -> v3::EmptySuccess;
    on_client_disconnected(ClientDisconnected, ClientDisconnectedRequest) -> v3::EmptySuccess;
    on_client_authenticate(ClientAuthenticate, ClientAuthenticateRequest) -> v3::ValuedResponse;
    on_client_authorize(ClientAuthorize, ClientAuthorizeRequest) -> v3::ValuedResponse;
    on_client_subscribe(ClientSubscribe, ClientSubscribeRequest) -> v3::EmptySuccess, v1: |r| subscription_v1!(r, ClientSubscribeRequest);
    on_client_unsubscribe(ClientUnsubscribe, ClientUnsubscribeRequest) -> v3::EmptySuccess, v1: |r| subscription_v1!(r, ClientUnsubscribeRequest);
    on_session_created(SessionCreated, SessionCreatedRequest) -> v3::EmptySuccess;
    on_session_subscribed(SessionSubscribed, SessionSubscribedRequest) -> v3::EmptySuccess, v1: session_subscribed_v1;
    on_session_unsubscribed(SessionUnsubscribed, SessionUnsubscribedRequest) -> v3::EmptySuccess;
    on_session_resumed(SessionResumed, SessionResumedRequest) -> v3::EmptySuccess;
    on_session_discarded(SessionDiscarded, SessionDiscardedRequest) -> v3::EmptySuccess;
    on_session_takenover(SessionTakenover, SessionTakenoverRequest) -> v3::EmptySuccess;
    on_session_terminated(SessionTerminated, SessionTerminatedRequest) -> v3::EmptySuccess;
    on_message_publish(MessagePublish, MessagePublishRequest) -> v3::ValuedResponse;
    on_message_delivered(MessageDelivered, MessageDeliveredRequest) -> v3::EmptySuccess;
    on_message_dropped(MessageDropped, MessageDroppedRequest) -> v3::EmptySuccess;
    on_message_acked(MessageAcked, MessageAckedRequest) -> v3::EmptySuccess;
}

impl Link {
    /// `OnProviderLoaded`: the loaded hook list, as hook names and topics.
    pub(crate) async fn on_provider_loaded(
        &self,
        request: ProviderLoadedRequest,
        timeout: Duration,
    ) -> Result<v3::LoadedResponse, Status> {
        match self {
            Link::InProcess { down: true, .. } => {
                Err(Status::unavailable("the provider is stopped"))
            }
            Link::InProcess {
                dispatcher,
                version,
                ..
            } => {
                let call = dispatcher.clone().on_provider_loaded(request, *version);
                Supervised::new(
                    call,
                    Hook::ProviderLoaded,
                    Some(timeout),
                    &dispatcher.supervision,
                )
                .await
                .map(tonic::Response::into_inner)
            }
            Link::Grpc {
                channel,
                version: Version::V1,
                ..
            } => {
                grpc_call(
                    channel,
                    Version::V1,
                    Hook::ProviderLoaded,
                    loaded_v1(&request),
                    timeout,
                )
                .await
            }
            Link::Grpc {
                channel, version, ..
            } => {
                let request = v3::ProviderLoadedRequest {
                    broker: Some(v3::BrokerInfo {
                        version: request.broker.version,
                        sysdescr: request.broker.sysdescr,
                        uptime: match request.broker.uptime {
                            Uptime::Millis(ms) => ms,
                            Uptime::Text(_) => 0,
                        },
                        datetime: request.broker.datetime,
                    }),
                    meta: Some(request.meta),
                };
                grpc_call(channel, *version, Hook::ProviderLoaded, request, timeout).await
            }
        }
    }
}
