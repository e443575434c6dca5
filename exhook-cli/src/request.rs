//! The requests EMQX sends, filled from one [`Event`] and encoded in the
//! layout of the protocol generation: `v1` with `emqx.exhook.v1`'s types
//! (EMQX 4.3 / 4.4), `v2` and `v3` with `v3`'s (a superset of `v2`'s).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use exhook_hooks::{Hook, Version};
use exhook_runtime::proto::{v1, v3};
use prost::Message as _;

/// What one event is about: the client, the message and the chain so far.
/// The CLI's flags and `--request-json` fill it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) clientid: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) peerhost: String,
    /// The message's topic; for authorize and the subscription hooks, the
    /// topic or filter of the request.
    pub(crate) topic: String,
    pub(crate) payload: Bytes,
    pub(crate) qos: u32,
    /// The chain's result so far, sent as `result` to authenticate and
    /// authorize: `true` when EMQX has no authenticator or authorization
    /// source that decided (its defaults).
    pub(crate) result: bool,
    /// For authorize: `publish` or `subscribe`.
    pub(crate) subscribe: bool,
    /// For disconnected, terminated and dropped.
    pub(crate) reason: String,
    /// The EMQX node and cluster calling.
    pub(crate) node: String,
    pub(crate) cluster_name: String,
}

impl Default for Event {
    fn default() -> Self {
        Event {
            clientid: "exhook-cli".to_owned(),
            username: "exhook-cli".to_owned(),
            password: String::new(),
            peerhost: "127.0.0.1".to_owned(),
            topic: "exhook/test".to_owned(),
            payload: Bytes::from_static(b"hello"),
            qos: 0,
            result: true,
            subscribe: false,
            reason: "normal".to_owned(),
            node: "emqx@127.0.0.1".to_owned(),
            cluster_name: "emqxcl".to_owned(),
        }
    }
}

/// The EMQX release each generation stands for in `BrokerInfo` and
/// `RequestMeta`.
pub(crate) fn emqx_release(version: Version) -> &'static str {
    match version {
        Version::V1 => "4.4.19",
        Version::V2 => "5.8.9",
        Version::V3 => "5.9.0",
    }
}

/// The request for `hook`, encoded for `version`.
pub(crate) fn encode(hook: Hook, version: Version, event: &Event) -> Bytes {
    use Hook::*;
    let v1 = version == Version::V1;
    let meta = meta(version, event);
    let clientinfo = || Some(clientinfo(event));
    let bytes = match hook {
        ProviderLoaded if v1 => loaded_v1(event).encode_to_vec(),
        ProviderLoaded => v3::ProviderLoadedRequest {
            broker: Some(v3::BrokerInfo {
                version: emqx_release(version).to_owned(),
                sysdescr: "EMQX".to_owned(),
                uptime: 3_600_000,
                datetime: humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
            }),
            meta,
        }
        .encode_to_vec(),
        ProviderUnloaded => {
            as_v1::<v1::ProviderUnloadedRequest>(v1, v3::ProviderUnloadedRequest { meta })
        }
        ClientConnect => as_v1::<v1::ClientConnectRequest>(
            v1,
            v3::ClientConnectRequest {
                conninfo: Some(conninfo(event)),
                meta,
                ..Default::default()
            },
        ),
        ClientConnack => as_v1::<v1::ClientConnackRequest>(
            v1,
            v3::ClientConnackRequest {
                conninfo: Some(conninfo(event)),
                result_code: if event.result {
                    "success"
                } else {
                    "not_authorized"
                }
                .to_owned(),
                meta,
                ..Default::default()
            },
        ),
        ClientConnected => as_v1::<v1::ClientConnectedRequest>(
            v1,
            v3::ClientConnectedRequest {
                clientinfo: clientinfo(),
                meta,
            },
        ),
        ClientDisconnected => as_v1::<v1::ClientDisconnectedRequest>(
            v1,
            v3::ClientDisconnectedRequest {
                clientinfo: clientinfo(),
                reason: event.reason.clone(),
                meta,
            },
        ),
        ClientAuthenticate => as_v1::<v1::ClientAuthenticateRequest>(
            v1,
            v3::ClientAuthenticateRequest {
                clientinfo: clientinfo(),
                result: event.result,
                meta,
            },
        ),
        ClientAuthorize => as_v1::<v1::ClientCheckAclRequest>(
            v1,
            v3::ClientAuthorizeRequest {
                clientinfo: clientinfo(),
                r#type: i32::from(event.subscribe),
                topic: subscription_topic(&event.topic).to_owned(),
                result: event.result,
                meta,
            },
        ),
        ClientSubscribe | ClientUnsubscribe if v1 => {
            let request = v1::ClientSubscribeRequest {
                clientinfo: Some(clientinfo_v1(event)),
                props: Vec::new(),
                topic_filters: vec![v1::TopicFilter {
                    name: event.topic.clone(),
                    qos: event.qos,
                }],
                meta: Some(meta_v1(version, event)),
            };
            // The two requests share one layout in every generation.
            request.encode_to_vec()
        }
        ClientSubscribe | ClientUnsubscribe => v3::ClientSubscribeRequest {
            clientinfo: clientinfo(),
            topic_filters: vec![v3::TopicFilter {
                name: event.topic.clone(),
                subopts: Some(subopts(event)),
            }],
            meta,
            ..Default::default()
        }
        .encode_to_vec(),
        SessionCreated => as_v1::<v1::SessionCreatedRequest>(
            v1,
            v3::SessionCreatedRequest {
                clientinfo: clientinfo(),
                meta,
            },
        ),
        SessionSubscribed if v1 => session_subscribed_v1(version, event).encode_to_vec(),
        SessionSubscribed => v3::SessionSubscribedRequest {
            clientinfo: clientinfo(),
            topic: event.topic.clone(),
            subopts: Some(subopts(event)),
            meta,
        }
        .encode_to_vec(),
        SessionUnsubscribed => as_v1::<v1::SessionUnsubscribedRequest>(
            v1,
            v3::SessionUnsubscribedRequest {
                clientinfo: clientinfo(),
                topic: event.topic.clone(),
                meta,
            },
        ),
        SessionResumed => as_v1::<v1::SessionResumedRequest>(
            v1,
            v3::SessionResumedRequest {
                clientinfo: clientinfo(),
                meta,
            },
        ),
        SessionDiscarded => as_v1::<v1::SessionDiscardedRequest>(
            v1,
            v3::SessionDiscardedRequest {
                clientinfo: clientinfo(),
                meta,
            },
        ),
        SessionTakenover => as_v1::<v1::SessionTakeoveredRequest>(
            v1,
            v3::SessionTakenoverRequest {
                clientinfo: clientinfo(),
                meta,
            },
        ),
        SessionTerminated => as_v1::<v1::SessionTerminatedRequest>(
            v1,
            v3::SessionTerminatedRequest {
                clientinfo: clientinfo(),
                reason: event.reason.clone(),
                meta,
            },
        ),
        MessagePublish => as_v1::<v1::MessagePublishRequest>(
            v1,
            v3::MessagePublishRequest {
                message: Some(message(event)),
                meta,
                ..Default::default()
            },
        ),
        MessageDelivered => as_v1::<v1::MessageDeliveredRequest>(
            v1,
            v3::MessageDeliveredRequest {
                clientinfo: clientinfo(),
                message: Some(message(event)),
                meta,
            },
        ),
        MessageDropped => as_v1::<v1::MessageDroppedRequest>(
            v1,
            v3::MessageDroppedRequest {
                message: Some(message(event)),
                reason: event.reason.clone(),
                meta,
            },
        ),
        MessageAcked => as_v1::<v1::MessageAckedRequest>(
            v1,
            v3::MessageAckedRequest {
                clientinfo: clientinfo(),
                message: Some(message(event)),
                meta,
            },
        ),
    };
    Bytes::from(bytes)
}

/// `request` in `v1`'s layout when `v1` is set. Where v1's message has the
/// same fields as v3's minus some (peerport, properties), decoding v3's
/// bytes as `V1` keeps exactly v1's fields, and re-encoding writes them with
/// v1's type.
fn as_v1<V1: prost::Message + Default>(v1: bool, request: impl prost::Message) -> Vec<u8> {
    let bytes = request.encode_to_vec();
    if !v1 {
        return bytes;
    }
    V1::decode(bytes.as_slice())
        .expect("v1's fields are v3's, with the same numbers and types")
        .encode_to_vec()
}

fn meta(version: Version, event: &Event) -> Option<v3::RequestMeta> {
    Some(v3::RequestMeta {
        node: event.node.clone(),
        version: emqx_release(version).to_owned(),
        sysdescr: "EMQX".to_owned(),
        cluster_name: event.cluster_name.clone(),
    })
}

fn meta_v1(version: Version, event: &Event) -> v1::RequestMeta {
    let meta = meta(version, event).unwrap_or_default();
    v1::RequestMeta {
        node: meta.node,
        version: meta.version,
        sysdescr: meta.sysdescr,
        cluster_name: meta.cluster_name,
    }
}

/// EMQX 4's `BrokerInfo.uptime` is text.
fn loaded_v1(event: &Event) -> v1::ProviderLoadedRequest {
    v1::ProviderLoadedRequest {
        broker: Some(v1::BrokerInfo {
            version: emqx_release(Version::V1).to_owned(),
            sysdescr: "EMQX Broker".to_owned(),
            uptime: "1 hours, 0 minutes, 0 seconds".to_owned(),
            datetime: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }),
        meta: Some(meta_v1(Version::V1, event)),
    }
}

fn conninfo(event: &Event) -> v3::ConnInfo {
    v3::ConnInfo {
        node: event.node.clone(),
        clientid: event.clientid.clone(),
        username: event.username.clone(),
        peerhost: event.peerhost.clone(),
        sockport: 1883,
        proto_name: "MQTT".to_owned(),
        proto_ver: "5".to_owned(),
        keepalive: 60,
        peerport: 54_321,
    }
}

fn clientinfo(event: &Event) -> v3::ClientInfo {
    v3::ClientInfo {
        node: event.node.clone(),
        clientid: event.clientid.clone(),
        username: event.username.clone(),
        password: event.password.clone(),
        peerhost: event.peerhost.clone(),
        sockport: 1883,
        protocol: "mqtt".to_owned(),
        anonymous: event.username.is_empty(),
        peerport: 54_321,
        ..Default::default()
    }
}

fn clientinfo_v1(event: &Event) -> v1::ClientInfo {
    let info = clientinfo(event);
    v1::ClientInfo {
        node: info.node,
        clientid: info.clientid,
        username: info.username,
        password: info.password,
        peerhost: info.peerhost,
        sockport: info.sockport,
        protocol: info.protocol,
        mountpoint: info.mountpoint,
        is_superuser: info.is_superuser,
        anonymous: info.anonymous,
        cn: info.cn,
        dn: info.dn,
    }
}

fn subopts(event: &Event) -> v3::SubOpts {
    v3::SubOpts {
        qos: event.qos,
        ..Default::default()
    }
}

/// EMQX 4 names the share group apart from the filter.
fn session_subscribed_v1(version: Version, event: &Event) -> v1::SessionSubscribedRequest {
    let (share, topic) = match event
        .topic
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((group, topic)) => (group.to_owned(), topic.to_owned()),
        None => (String::new(), event.topic.clone()),
    };
    v1::SessionSubscribedRequest {
        clientinfo: Some(clientinfo_v1(event)),
        topic,
        subopts: Some(v1::SubOpts {
            qos: event.qos,
            share,
            ..Default::default()
        }),
        meta: Some(meta_v1(version, event)),
    }
}

/// The topic EMQX authorizes for a subscription: `$share/<group>/` removed.
fn subscription_topic(filter: &str) -> &str {
    filter
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(filter, |(_, topic)| topic)
}

/// The message as EMQX builds it for the `message.*` hooks.
pub(crate) fn message(event: &Event) -> v3::Message {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    v3::Message {
        node: event.node.clone(),
        id: format!("{:032X}", now.as_nanos()),
        qos: event.qos,
        from: event.clientid.clone(),
        topic: event.topic.clone(),
        payload: event.payload.clone(),
        timestamp: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
        headers: [
            ("username", event.username.as_str()),
            ("protocol", "mqtt"),
            ("peerhost", event.peerhost.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_decodes_as_its_generations_type() {
        let event = Event {
            topic: "$share/g/a/b".into(),
            qos: 1,
            ..Event::default()
        };
        for hook in Hook::ALL {
            let bytes = encode(hook, Version::V1, &event);
            if hook == Hook::ProviderLoaded {
                let loaded = v1::ProviderLoadedRequest::decode(bytes).unwrap();
                assert!(loaded.broker.unwrap().uptime.contains("hours"));
            } else {
                assert!(!bytes.is_empty(), "{hook}");
            }
        }
        let subscribed = v1::SessionSubscribedRequest::decode(encode(
            Hook::SessionSubscribed,
            Version::V1,
            &event,
        ))
        .unwrap();
        assert_eq!(
            (
                subscribed.topic.as_str(),
                subscribed.subopts.unwrap().share.as_str()
            ),
            ("a/b", "g")
        );
        let subscribe =
            v1::ClientSubscribeRequest::decode(encode(Hook::ClientSubscribe, Version::V1, &event))
                .unwrap();
        assert_eq!(subscribe.topic_filters[0].qos, 1);
        let authorize =
            v3::ClientAuthorizeRequest::decode(encode(Hook::ClientAuthorize, Version::V3, &event))
                .unwrap();
        assert_eq!(authorize.topic, "a/b");
        let loaded =
            v3::ProviderLoadedRequest::decode(encode(Hook::ProviderLoaded, Version::V3, &event))
                .unwrap();
        assert_eq!(loaded.broker.unwrap().uptime, 3_600_000);
    }

    #[test]
    fn v1_requests_carry_no_field_v1_lacks() {
        let event = Event::default();
        // peerport (13) exists only from EMQX 5.4: the v1 bytes must not
        // carry it, and must be shorter than the v3 bytes by exactly it.
        let v1_bytes = encode(Hook::ClientAuthenticate, Version::V1, &event);
        let v3_bytes = encode(Hook::ClientAuthenticate, Version::V3, &event);
        let decoded = v3::ClientAuthenticateRequest::decode(v1_bytes).unwrap();
        assert_eq!(decoded.clientinfo.as_ref().unwrap().peerport, 0);
        let full = v3::ClientAuthenticateRequest::decode(v3_bytes).unwrap();
        assert_eq!(full.clientinfo.unwrap().peerport, 54_321);
        assert_eq!(decoded.meta.unwrap().version, "4.4.19");
    }
}
