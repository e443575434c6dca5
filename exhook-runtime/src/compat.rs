//! How requests travel in each protocol generation: [`Wire`], and the
//! conversions for the requests whose layout differs between generations.
//!
//! v2 and v3 share one layout (v3 only adds fields), so their requests
//! decode straight into the neutral types, except where EMQX 5.0–5.3 still
//! send the pre-5.4 subscription fields on v2. EMQX 4.x (v1) lays out four
//! requests differently; its other requests' fields are a subset of v3's.

use bytes::Buf;
use prost::{DecodeError, Message as _};

use crate::event::*;
use crate::proto::{v1, v3};
use crate::version::Version;

/// How a request is laid out in each protocol generation.
pub trait Wire: Sized {
    /// Decodes the request as EMQX of `version` encodes it.
    fn decode(version: Version, buf: impl Buf) -> Result<Self, DecodeError>;

    /// Encodes the request as EMQX of `version` sends it (v1 with EMQX 4's
    /// fields only, v2 and v3 as EMQX 5.4+).
    fn encode(&self, version: Version) -> Vec<u8>;
}

/// A request whose fields are a subset of v3's in v1 (`V1` being its v1
/// type), and v3's layout in v2: decoded as it is, and encoded for v1 by
/// keeping only v1's fields.
pub(crate) fn decode_plain<R: prost::Message + Default>(buf: impl Buf) -> Result<R, DecodeError> {
    R::decode(buf)
}

pub(crate) fn encode_plain<R: prost::Message, V1: prost::Message + Default>(
    request: &R,
    version: Version,
) -> Vec<u8> {
    let bytes = request.encode_to_vec();
    match version {
        // Decoding v3 bytes as the v1 type drops what v1 does not have.
        Version::V1 => V1::decode(bytes.as_slice())
            .unwrap_or_default()
            .encode_to_vec(),
        Version::V2 | Version::V3 => bytes,
    }
}

impl Wire for ProviderLoadedRequest {
    fn decode(version: Version, buf: impl Buf) -> Result<Self, DecodeError> {
        Ok(match version {
            Version::V1 => v1::ProviderLoadedRequest::decode(buf)?.into(),
            Version::V2 | Version::V3 => v3::ProviderLoadedRequest::decode(buf)?.into(),
        })
    }

    fn encode(&self, version: Version) -> Vec<u8> {
        match version {
            Version::V1 => v1::ProviderLoadedRequest::from(self).encode_to_vec(),
            Version::V2 | Version::V3 => v3::ProviderLoadedRequest::from(self).encode_to_vec(),
        }
    }
}

impl Wire for ClientSubscribeRequest {
    fn decode(version: Version, buf: impl Buf) -> Result<Self, DecodeError> {
        Ok(match version {
            Version::V1 => subscribe_from_v1(v1::ClientSubscribeRequest::decode(buf)?),
            Version::V2 => v2_subscription(SubscriptionV2::decode(buf)?),
            Version::V3 => prost::Message::decode(buf)?,
        })
    }

    fn encode(&self, version: Version) -> Vec<u8> {
        match version {
            Version::V1 => subscribe_to_v1(self).encode_to_vec(),
            Version::V2 | Version::V3 => self.encode_to_vec(),
        }
    }
}

impl Wire for ClientUnsubscribeRequest {
    fn decode(version: Version, buf: impl Buf) -> Result<Self, DecodeError> {
        Ok(match version {
            Version::V1 => unsubscribe_from_v1(v1::ClientUnsubscribeRequest::decode(buf)?),
            Version::V2 => unsubscribe_from_v2(SubscriptionV2::decode(buf)?),
            Version::V3 => prost::Message::decode(buf)?,
        })
    }

    fn encode(&self, version: Version) -> Vec<u8> {
        match version {
            Version::V1 => unsubscribe_to_v1(self).encode_to_vec(),
            Version::V2 | Version::V3 => self.encode_to_vec(),
        }
    }
}

impl Wire for SessionSubscribedRequest {
    fn decode(version: Version, buf: impl Buf) -> Result<Self, DecodeError> {
        Ok(match version {
            Version::V1 => session_subscribed_from_v1(v1::SessionSubscribedRequest::decode(buf)?),
            Version::V2 => session_subscribed_from_v2(SessionSubscribedV2::decode(buf)?),
            Version::V3 => prost::Message::decode(buf)?,
        })
    }

    fn encode(&self, version: Version) -> Vec<u8> {
        match version {
            Version::V1 => session_subscribed_to_v1(self).encode_to_vec(),
            Version::V2 | Version::V3 => self.encode_to_vec(),
        }
    }
}

// --- `OnProviderLoaded`: EMQX 4 sends its uptime as text. ---

impl From<v3::ProviderLoadedRequest> for ProviderLoadedRequest {
    fn from(request: v3::ProviderLoadedRequest) -> Self {
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
}

impl From<&ProviderLoadedRequest> for v3::ProviderLoadedRequest {
    fn from(request: &ProviderLoadedRequest) -> Self {
        v3::ProviderLoadedRequest {
            broker: Some(v3::BrokerInfo {
                version: request.broker.version.clone(),
                sysdescr: request.broker.sysdescr.clone(),
                uptime: match request.broker.uptime {
                    Uptime::Millis(ms) => ms,
                    Uptime::Text(_) => 0,
                },
                datetime: request.broker.datetime.clone(),
            }),
            meta: Some(request.meta.clone()),
        }
    }
}

impl From<v1::ProviderLoadedRequest> for ProviderLoadedRequest {
    fn from(request: v1::ProviderLoadedRequest) -> Self {
        let broker = request.broker.unwrap_or_default();
        ProviderLoadedRequest {
            broker: BrokerInfo {
                version: broker.version,
                sysdescr: broker.sysdescr,
                uptime: Uptime::Text(broker.uptime),
                datetime: broker.datetime,
            },
            meta: meta_from_v1(request.meta.unwrap_or_default()),
        }
    }
}

impl From<&ProviderLoadedRequest> for v1::ProviderLoadedRequest {
    fn from(request: &ProviderLoadedRequest) -> Self {
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
            meta: Some(meta_to_v1(&request.meta)),
        }
    }
}

// --- The parts v1 shares with v3 (same fields, v1's types). ---

fn meta_from_v1(meta: v1::RequestMeta) -> RequestMeta {
    RequestMeta {
        node: meta.node,
        version: meta.version,
        sysdescr: meta.sysdescr,
        cluster_name: meta.cluster_name,
    }
}

fn meta_to_v1(meta: &RequestMeta) -> v1::RequestMeta {
    v1::RequestMeta {
        node: meta.node.clone(),
        version: meta.version.clone(),
        sysdescr: meta.sysdescr.clone(),
        cluster_name: meta.cluster_name.clone(),
    }
}

fn clientinfo_from_v1(info: v1::ClientInfo) -> ClientInfo {
    ClientInfo {
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

fn clientinfo_to_v1(info: &ClientInfo) -> v1::ClientInfo {
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

fn property_from_v1(property: v1::Property) -> Property {
    Property {
        name: property.name,
        value: property.value,
    }
}

fn property_to_v1(property: &Property) -> v1::Property {
    v1::Property {
        name: property.name.clone(),
        value: property.value.clone(),
    }
}

// --- Subscriptions: the QoS beside the filter, the share group apart. ---

/// A filter whose QoS sits beside its name (v1, and v2 from EMQX 5.0–5.3):
/// EMQX 5.4+ sends it in `subopts`.
fn filter_with_qos(name: String, qos: u32) -> SubscriptionFilter {
    SubscriptionFilter {
        name,
        subopts: Some(SubOpts {
            qos,
            ..SubOpts::default()
        }),
    }
}

fn filters_to_v1(filters: &[SubscriptionFilter]) -> Vec<v1::TopicFilter> {
    filters
        .iter()
        .map(|filter| v1::TopicFilter {
            name: filter.name.clone(),
            qos: filter.subopts.unwrap_or_default().qos,
        })
        .collect()
}

fn filters_from_v1(filters: Vec<v1::TopicFilter>) -> Vec<SubscriptionFilter> {
    filters
        .into_iter()
        .map(|filter| filter_with_qos(filter.name, filter.qos))
        .collect()
}

fn subscribe_from_v1(request: v1::ClientSubscribeRequest) -> ClientSubscribeRequest {
    ClientSubscribeRequest {
        clientinfo: request.clientinfo.map(clientinfo_from_v1),
        props: request.props.into_iter().map(property_from_v1).collect(),
        topic_filters: filters_from_v1(request.topic_filters),
        meta: request.meta.map(meta_from_v1),
        user_props: Vec::new(),
    }
}

fn subscribe_to_v1(request: &ClientSubscribeRequest) -> v1::ClientSubscribeRequest {
    v1::ClientSubscribeRequest {
        clientinfo: request.clientinfo.as_ref().map(clientinfo_to_v1),
        props: request.props.iter().map(property_to_v1).collect(),
        topic_filters: filters_to_v1(&request.topic_filters),
        meta: request.meta.as_ref().map(meta_to_v1),
    }
}

fn unsubscribe_from_v1(request: v1::ClientUnsubscribeRequest) -> ClientUnsubscribeRequest {
    ClientUnsubscribeRequest {
        clientinfo: request.clientinfo.map(clientinfo_from_v1),
        props: request.props.into_iter().map(property_from_v1).collect(),
        topic_filters: filters_from_v1(request.topic_filters),
        meta: request.meta.map(meta_from_v1),
        user_props: Vec::new(),
    }
}

fn unsubscribe_to_v1(request: &ClientUnsubscribeRequest) -> v1::ClientUnsubscribeRequest {
    v1::ClientUnsubscribeRequest {
        clientinfo: request.clientinfo.as_ref().map(clientinfo_to_v1),
        props: request.props.iter().map(property_to_v1).collect(),
        topic_filters: filters_to_v1(&request.topic_filters),
        meta: request.meta.as_ref().map(meta_to_v1),
    }
}

/// A v1 shared subscription names its group in `subopts.share`; EMQX 5.4+
/// sends `$share/<group>/<filter>` as the topic instead.
fn shared_topic(share: &str, topic: String) -> String {
    if share.is_empty() {
        topic
    } else {
        format!("$share/{share}/{topic}")
    }
}

fn session_subscribed_from_v1(request: v1::SessionSubscribedRequest) -> SessionSubscribedRequest {
    let subopts = request.subopts.unwrap_or_default();
    SessionSubscribedRequest {
        clientinfo: request.clientinfo.map(clientinfo_from_v1),
        topic: shared_topic(&subopts.share, request.topic),
        subopts: Some(SubOpts {
            qos: subopts.qos,
            rh: subopts.rh,
            rap: subopts.rap,
            nl: subopts.nl,
        }),
        meta: request.meta.map(meta_from_v1),
    }
}

fn session_subscribed_to_v1(request: &SessionSubscribedRequest) -> v1::SessionSubscribedRequest {
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
        clientinfo: request.clientinfo.as_ref().map(clientinfo_to_v1),
        topic,
        subopts: Some(v1::SubOpts {
            qos: opts.qos,
            share,
            rh: opts.rh,
            rap: opts.rap,
            nl: opts.nl,
        }),
        meta: request.meta.as_ref().map(meta_to_v1),
    }
}

// --- v2 as EMQX 5.0–5.3 send it: `TopicFilter.qos` and `SubOpts.share` in
// field 2, which 5.4+ reserve. Decoding both layouts with one type keeps
// whichever the sender used. ---

/// `ClientSubscribeRequest` / `ClientUnsubscribeRequest` on v2.
#[derive(Clone, PartialEq, prost::Message)]
struct SubscriptionV2 {
    #[prost(message, optional, tag = "1")]
    clientinfo: Option<ClientInfo>,
    #[prost(message, repeated, tag = "2")]
    props: Vec<Property>,
    #[prost(message, repeated, tag = "3")]
    topic_filters: Vec<TopicFilterV2>,
    #[prost(message, optional, tag = "4")]
    meta: Option<RequestMeta>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TopicFilterV2 {
    #[prost(string, tag = "1")]
    name: String,
    /// EMQX 5.0–5.3.
    #[prost(uint32, tag = "2")]
    qos: u32,
    /// EMQX 5.4+.
    #[prost(message, optional, tag = "3")]
    subopts: Option<SubOpts>,
}

/// `SessionSubscribedRequest` on v2.
#[derive(Clone, PartialEq, prost::Message)]
struct SessionSubscribedV2 {
    #[prost(message, optional, tag = "1")]
    clientinfo: Option<ClientInfo>,
    #[prost(string, tag = "2")]
    topic: String,
    #[prost(message, optional, tag = "3")]
    subopts: Option<SubOptsV2>,
    #[prost(message, optional, tag = "4")]
    meta: Option<RequestMeta>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SubOptsV2 {
    #[prost(uint32, tag = "1")]
    qos: u32,
    /// EMQX 5.0–5.3: the share group, apart from the topic.
    #[prost(string, tag = "2")]
    share: String,
    #[prost(uint32, tag = "3")]
    rh: u32,
    #[prost(uint32, tag = "4")]
    rap: u32,
    #[prost(uint32, tag = "5")]
    nl: u32,
}

fn filters_from_v2(filters: Vec<TopicFilterV2>) -> Vec<SubscriptionFilter> {
    filters
        .into_iter()
        .map(|filter| match filter.subopts {
            Some(subopts) => SubscriptionFilter {
                name: filter.name,
                subopts: Some(subopts),
            },
            None => filter_with_qos(filter.name, filter.qos),
        })
        .collect()
}

fn v2_subscription(request: SubscriptionV2) -> ClientSubscribeRequest {
    ClientSubscribeRequest {
        clientinfo: request.clientinfo,
        props: request.props,
        topic_filters: filters_from_v2(request.topic_filters),
        meta: request.meta,
        user_props: Vec::new(),
    }
}

fn unsubscribe_from_v2(request: SubscriptionV2) -> ClientUnsubscribeRequest {
    ClientUnsubscribeRequest {
        clientinfo: request.clientinfo,
        props: request.props,
        topic_filters: filters_from_v2(request.topic_filters),
        meta: request.meta,
        user_props: Vec::new(),
    }
}

fn session_subscribed_from_v2(request: SessionSubscribedV2) -> SessionSubscribedRequest {
    let (share, subopts) = match request.subopts {
        Some(subopts) => (
            subopts.share,
            Some(SubOpts {
                qos: subopts.qos,
                rh: subopts.rh,
                rap: subopts.rap,
                nl: subopts.nl,
            }),
        ),
        None => (String::new(), None),
    };
    SessionSubscribedRequest {
        clientinfo: request.clientinfo,
        topic: shared_topic(&share, request.topic),
        subopts,
        meta: request.meta,
    }
}
