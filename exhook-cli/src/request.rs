//! The requests EMQX sends, filled from one [`Event`] and encoded in the
//! layout of the protocol generation: `v1` with `emqx.exhook.v1`'s types
//! (EMQX 4.3 / 4.4), `v2` and `v3` with `v3`'s (a superset of `v2`'s).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use exhook_hooks::{Hook, Version};
use exhook_runtime::event::*;
use exhook_runtime::hooks::Wire;
use exhook_runtime::proto::v3;

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

/// The request for `hook`, encoded for `version` by the runtime's own
/// conversions (`Wire::encode`: v1 in EMQX 4's layout, v2 and v3 as EMQX 5.4+).
pub(crate) fn encode(hook: Hook, version: Version, event: &Event) -> Bytes {
    use Hook::*;
    let meta = meta(version, event);
    let clientinfo = || Some(clientinfo(event));
    let filters = || {
        vec![SubscriptionFilter {
            name: event.topic.clone(),
            subopts: Some(subopts(event)),
        }]
    };
    let bytes = match hook {
        ProviderLoaded => loaded(version, event).encode(version),
        ProviderUnloaded => ProviderUnloadedRequest { meta }.encode(version),
        ClientConnect => ClientConnectRequest {
            conninfo: Some(conninfo(event)),
            meta,
            ..Default::default()
        }
        .encode(version),
        ClientConnack => ClientConnackRequest {
            conninfo: Some(conninfo(event)),
            result_code: if event.result {
                "success"
            } else {
                "not_authorized"
            }
            .to_owned(),
            meta,
            ..Default::default()
        }
        .encode(version),
        ClientConnected => ClientConnectedRequest {
            clientinfo: clientinfo(),
            meta,
        }
        .encode(version),
        ClientDisconnected => ClientDisconnectedRequest {
            clientinfo: clientinfo(),
            reason: event.reason.clone(),
            meta,
        }
        .encode(version),
        ClientAuthenticate => ClientAuthenticateRequest {
            clientinfo: clientinfo(),
            result: event.result,
            meta,
        }
        .encode(version),
        ClientAuthorize => ClientAuthorizeRequest {
            clientinfo: clientinfo(),
            r#type: i32::from(event.subscribe),
            topic: subscription_topic(&event.topic).to_owned(),
            result: event.result,
            meta,
        }
        .encode(version),
        ClientSubscribe => ClientSubscribeRequest {
            clientinfo: clientinfo(),
            topic_filters: filters(),
            meta,
            ..Default::default()
        }
        .encode(version),
        ClientUnsubscribe => ClientUnsubscribeRequest {
            clientinfo: clientinfo(),
            topic_filters: filters(),
            meta,
            ..Default::default()
        }
        .encode(version),
        SessionCreated => SessionCreatedRequest {
            clientinfo: clientinfo(),
            meta,
        }
        .encode(version),
        SessionSubscribed => SessionSubscribedRequest {
            clientinfo: clientinfo(),
            topic: event.topic.clone(),
            subopts: Some(subopts(event)),
            meta,
        }
        .encode(version),
        SessionUnsubscribed => SessionUnsubscribedRequest {
            clientinfo: clientinfo(),
            topic: event.topic.clone(),
            meta,
        }
        .encode(version),
        SessionResumed => SessionResumedRequest {
            clientinfo: clientinfo(),
            meta,
        }
        .encode(version),
        SessionDiscarded => SessionDiscardedRequest {
            clientinfo: clientinfo(),
            meta,
        }
        .encode(version),
        SessionTakenover => SessionTakenoverRequest {
            clientinfo: clientinfo(),
            meta,
        }
        .encode(version),
        SessionTerminated => SessionTerminatedRequest {
            clientinfo: clientinfo(),
            reason: event.reason.clone(),
            meta,
        }
        .encode(version),
        MessagePublish => MessagePublishRequest {
            message: Some(message(event)),
            meta,
            ..Default::default()
        }
        .encode(version),
        MessageDelivered => MessageDeliveredRequest {
            clientinfo: clientinfo(),
            message: Some(message(event)),
            meta,
        }
        .encode(version),
        MessageDropped => MessageDroppedRequest {
            message: Some(message(event)),
            reason: event.reason.clone(),
            meta,
        }
        .encode(version),
        MessageAcked => MessageAckedRequest {
            clientinfo: clientinfo(),
            message: Some(message(event)),
            meta,
        }
        .encode(version),
    };
    Bytes::from(bytes)
}

fn meta(version: Version, event: &Event) -> Option<v3::RequestMeta> {
    Some(v3::RequestMeta {
        node: event.node.clone(),
        version: emqx_release(version).to_owned(),
        sysdescr: "EMQX".to_owned(),
        cluster_name: event.cluster_name.clone(),
    })
}

/// `OnProviderLoaded` from the release of `version`; EMQX 4's uptime is text.
fn loaded(version: Version, event: &Event) -> ProviderLoadedRequest {
    let now = SystemTime::now();
    let (sysdescr, uptime, datetime) = match version {
        Version::V1 => (
            "EMQX Broker",
            Uptime::Text("1 hours, 0 minutes, 0 seconds".to_owned()),
            humantime::format_rfc3339_seconds(now).to_string(),
        ),
        Version::V2 | Version::V3 => (
            "EMQX",
            Uptime::Millis(3_600_000),
            humantime::format_rfc3339_nanos(now).to_string(),
        ),
    };
    ProviderLoadedRequest {
        broker: BrokerInfo {
            version: emqx_release(version).to_owned(),
            sysdescr: sysdescr.to_owned(),
            uptime,
            datetime,
        },
        meta: meta(version, event).unwrap_or_default(),
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

fn subopts(event: &Event) -> v3::SubOpts {
    v3::SubOpts {
        qos: event.qos,
        ..Default::default()
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
    use exhook_runtime::proto::v1;
    use prost::Message as _;

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
        let authorize = <v3::ClientAuthorizeRequest as prost::Message>::decode(encode(
            Hook::ClientAuthorize,
            Version::V3,
            &event,
        ))
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
        let decoded = <v3::ClientAuthenticateRequest as prost::Message>::decode(v1_bytes).unwrap();
        assert_eq!(decoded.clientinfo.as_ref().unwrap().peerport, 0);
        let full = <v3::ClientAuthenticateRequest as prost::Message>::decode(v3_bytes).unwrap();
        assert_eq!(full.clientinfo.unwrap().peerport, 54_321);
        assert_eq!(decoded.meta.unwrap().version, "4.4.19");
    }
}
