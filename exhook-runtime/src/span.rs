//! What a call's tracing span records: the client and the topic, never
//! the password.

use crate::event::*;

/// The client id and topic of a request, for its span.
pub(crate) trait Identify {
    fn clientid(&self) -> &str;
    fn topic(&self) -> &str {
        ""
    }
}

impl Identify for ProviderLoadedRequest {
    fn clientid(&self) -> &str {
        ""
    }
}

impl Identify for ProviderUnloadedRequest {
    fn clientid(&self) -> &str {
        ""
    }
}

macro_rules! by_conninfo {
    ($($req:ty),*) => {$(
        impl Identify for $req {
            fn clientid(&self) -> &str {
                self.conninfo.as_ref().map_or("", |info| &info.clientid)
            }
        }
    )*};
}
by_conninfo!(ClientConnectRequest, ClientConnackRequest);

macro_rules! by_clientinfo {
    ($($req:ty),*) => {$(
        impl Identify for $req {
            fn clientid(&self) -> &str {
                self.clientinfo.as_ref().map_or("", |info| &info.clientid)
            }
        }
    )*};
    ($($req:ty => |$r:ident| $topic:expr),*) => {$(
        impl Identify for $req {
            fn clientid(&self) -> &str {
                self.clientinfo.as_ref().map_or("", |info| &info.clientid)
            }
            fn topic(&self) -> &str {
                let $r = self;
                $topic
            }
        }
    )*};
}
by_clientinfo!(
    ClientConnectedRequest,
    ClientDisconnectedRequest,
    ClientAuthenticateRequest,
    SessionCreatedRequest,
    SessionResumedRequest,
    SessionDiscardedRequest,
    SessionTakenoverRequest,
    SessionTerminatedRequest
);
by_clientinfo!(
    ClientAuthorizeRequest => |r| &r.topic,
    SessionSubscribedRequest => |r| &r.topic,
    SessionUnsubscribedRequest => |r| &r.topic,
    ClientSubscribeRequest => |r| r.topic_filters.first().map_or("", |f| &f.name),
    ClientUnsubscribeRequest => |r| r.topic_filters.first().map_or("", |f| &f.name),
    MessageDeliveredRequest => |r| r.message.as_ref().map_or("", |m| &m.topic),
    MessageAckedRequest => |r| r.message.as_ref().map_or("", |m| &m.topic)
);

macro_rules! by_message {
    ($($req:ty),*) => {$(
        impl Identify for $req {
            fn clientid(&self) -> &str {
                self.message.as_ref().map_or("", |m| &m.from)
            }
            fn topic(&self) -> &str {
                self.message.as_ref().map_or("", |m| &m.topic)
            }
        }
    )*};
}
by_message!(MessagePublishRequest, MessageDroppedRequest);
