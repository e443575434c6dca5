//! Maps requests of the older protocol versions onto the neutral model.
//!
//! v2 and v3 messages share one layout (v3 only adds fields), so v2 requests
//! decode straight into the v3 types. EMQX 4.x (v1) differs in four requests,
//! converted here; its other requests have v3's layout minus a few fields.

use crate::event::{BrokerInfo, ProviderLoadedRequest, Uptime};
use crate::proto::{v1, v3};

/// `OnProviderLoaded` from EMQX 5.
pub(crate) fn loaded_from_v3(request: v3::ProviderLoadedRequest) -> ProviderLoadedRequest {
    let broker = request.broker.unwrap_or_default();
    ProviderLoadedRequest {
        broker: BrokerInfo {
            version: broker.version,
            sysdescr: broker.sysdescr,
            uptime: Uptime::Millis(broker.uptime),
            datetime: broker.datetime,
        },
        meta: request.meta.unwrap_or_default(),
    }
}

/// `OnProviderLoaded` from EMQX 4.x, whose uptime is text.
pub(crate) fn loaded_from_v1(request: v1::ProviderLoadedRequest) -> ProviderLoadedRequest {
    let broker = request.broker.unwrap_or_default();
    let meta = request.meta.unwrap_or_default();
    ProviderLoadedRequest {
        broker: BrokerInfo {
            version: broker.version,
            sysdescr: broker.sysdescr,
            uptime: Uptime::Text(broker.uptime),
            datetime: broker.datetime,
        },
        meta: meta_from_v1(meta),
    }
}

fn meta_from_v1(meta: v1::RequestMeta) -> v3::RequestMeta {
    v3::RequestMeta {
        node: meta.node,
        version: meta.version,
        sysdescr: meta.sysdescr,
        cluster_name: meta.cluster_name,
    }
}

fn clientinfo_from_v1(info: v1::ClientInfo) -> v3::ClientInfo {
    v3::ClientInfo {
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
        peerport: 0,
    }
}

fn property_from_v1(property: v1::Property) -> v3::Property {
    v3::Property {
        name: property.name,
        value: property.value,
    }
}

/// A v1 subscription carries its QoS beside the name; EMQX 5.4+ sends it in
/// `subopts`.
fn filter_from_v1(filter: v1::TopicFilter) -> v3::TopicFilter {
    v3::TopicFilter {
        name: filter.name,
        subopts: Some(v3::SubOpts {
            qos: filter.qos,
            ..Default::default()
        }),
    }
}

macro_rules! subscription_from_v1 {
    ($name:ident, $req:ident) => {
        pub(crate) fn $name(request: v1::$req) -> v3::$req {
            v3::$req {
                clientinfo: request.clientinfo.map(clientinfo_from_v1),
                props: request.props.into_iter().map(property_from_v1).collect(),
                topic_filters: request
                    .topic_filters
                    .into_iter()
                    .map(filter_from_v1)
                    .collect(),
                meta: request.meta.map(meta_from_v1),
                user_props: Vec::new(),
            }
        }
    };
}
subscription_from_v1!(subscribe_from_v1, ClientSubscribeRequest);
subscription_from_v1!(unsubscribe_from_v1, ClientUnsubscribeRequest);

/// A v1 shared subscription names its group in `subopts.share`; EMQX 5.4+
/// sends `$share/<group>/<filter>` as the topic instead.
pub(crate) fn session_subscribed_from_v1(
    request: v1::SessionSubscribedRequest,
) -> v3::SessionSubscribedRequest {
    let subopts = request.subopts.unwrap_or_default();
    let topic = if subopts.share.is_empty() {
        request.topic
    } else {
        format!("$share/{}/{}", subopts.share, request.topic)
    };
    v3::SessionSubscribedRequest {
        clientinfo: request.clientinfo.map(clientinfo_from_v1),
        topic,
        subopts: Some(v3::SubOpts {
            qos: subopts.qos,
            rh: subopts.rh,
            rap: subopts.rap,
            nl: subopts.nl,
        }),
        meta: request.meta.map(meta_from_v1),
    }
}
