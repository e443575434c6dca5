//! The version-neutral event model every handler sees.
//!
//! Requests from EMQX 5.9+ (`v3`) arrive as they are; `v2` requests decode
//! into the same types (v3 only adds fields); `v1` requests (EMQX 4.x) are
//! mapped: `OnClientCheckAcl` becomes [`ClientAuthorizeRequest`],
//! `OnSessionTakeovered` becomes [`SessionTakenoverRequest`], a subscription's
//! QoS moves into [`SubOpts`] and its share group into the filter
//! (`$share/<group>/<filter>`), as EMQX 5.4+ sends it.

use std::convert::Infallible;
use std::future::{Future, ready};
use std::sync::LazyLock;

use crate::extract::{Call, FromCall};

pub use crate::proto::v3::{
    ClientAuthenticateRequest, ClientAuthorizeRequest, ClientConnackRequest, ClientConnectRequest,
    ClientConnectedRequest, ClientDisconnectedRequest, ClientInfo, ClientSubscribeRequest,
    ClientUnsubscribeRequest, ConnInfo, Message, MessageAckedRequest, MessageDeliveredRequest,
    MessageDroppedRequest, MessagePublishRequest, Property, ProviderUnloadedRequest, RequestMeta,
    SessionCreatedRequest, SessionDiscardedRequest, SessionResumedRequest,
    SessionSubscribedRequest, SessionTakenoverRequest, SessionTerminatedRequest,
    SessionUnsubscribedRequest, SubOpts, TopicFilter as SubscriptionFilter,
};

/// Whether an authorize request is for a publish or a subscribe.
pub use crate::proto::v3::client_authorize_request::AuthorizeReqType as AuthorizeAction;

/// The EMQX node that loads the provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerInfo {
    /// Release, such as `5.9.0`.
    pub version: String,
    /// `EMQX` or `EMQX Enterprise`.
    pub sysdescr: String,
    /// How long the node has been up.
    pub uptime: Uptime,
    /// The node's clock, RFC 3339.
    pub datetime: String,
}

/// A node's uptime: EMQX 5 sends milliseconds, EMQX 4 a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uptime {
    /// Milliseconds (EMQX 5).
    Millis(i64),
    /// Text such as `"3 minutes, 10 seconds"` (EMQX 4).
    Text(String),
}

impl Default for Uptime {
    fn default() -> Self {
        Uptime::Millis(0)
    }
}

/// `OnProviderLoaded`'s request, the same for every protocol version.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderLoadedRequest {
    /// The loading node.
    pub broker: BrokerInfo,
    /// The loading node's name and cluster.
    pub meta: RequestMeta,
}

/// A shared empty value, for a sub-message a request left out.
pub(crate) trait EmptyValue: 'static {
    fn empty() -> &'static Self;
}

macro_rules! empty_values {
    ($($ty:ty),*) => {$(
        impl EmptyValue for $ty {
            fn empty() -> &'static Self {
                static EMPTY: LazyLock<$ty> = LazyLock::new(Default::default);
                &EMPTY
            }
        }
    )*};
}
empty_values!(ClientInfo, ConnInfo, Message, RequestMeta, SubOpts);

/// An authorize handler's argument: whether the request is for a publish or
/// a subscribe.
impl FromCall<'_, crate::hooks::on_client_authorize> for AuthorizeAction {
    type Rejection = Infallible;
    const MESSAGE: crate::extract::MessageUse = crate::extract::MessageUse::Ignores;

    fn from_call(
        call: Call<'_, crate::hooks::on_client_authorize>,
    ) -> impl Future<Output = Result<Self, Infallible>> + Send {
        ready(Ok(call.request.r#type()))
    }
}
