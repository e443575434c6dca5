//! A multi-tenant gateway: clients log in as `tenant:user`, a tenant may
//! use only the topics under `t/<tenant>/`, and each client may publish at
//! most so many messages per window.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exhook_runtime::hooks::Provides;
use exhook_runtime::middleware::{self, Next, Request, Response};
use exhook_runtime::prelude::*;
use exhook_runtime::subscription_topic;
use exhook_runtime::tonic::Status;

/// The tenants that may log in.
pub type Tenants = Arc<HashSet<String>>;

/// The tenant of the client, from its `tenant:user` user name. A hook
/// whose event has no `ClientInfo` cannot take it: that is a compile error.
pub struct Tenant(pub String);

impl<'a, H: Provides<ClientInfo>> FromCall<'a, H> for Tenant {
    type Rejection = Rejection;

    async fn from_call(call: Call<'a, H>) -> Result<Self, Rejection> {
        let client: &ClientInfo = call.piece();
        let tenants: &Tenants = call.state().ok_or(Rejection::Deny)?;
        match client.username.split_once(':') {
            Some((tenant, _)) if tenants.contains(tenant) => Ok(Tenant(tenant.to_owned())),
            // No tenant, or an unknown one: the call is denied.
            _ => Err(Rejection::Deny),
        }
    }
}

#[on_client_authenticate]
async fn login(_tenant: Tenant) -> Decision {
    Decision::Allow
}

#[on_client_authorize]
async fn own_topics(Tenant(tenant): Tenant, request: &ClientAuthorizeRequest) -> Decision {
    // A shared subscription `$share/<group>/t/a/x` is about `t/a/x`.
    let topic = subscription_topic(&request.topic);
    if topic
        .strip_prefix("t/")
        .and_then(|rest| rest.strip_prefix(tenant.as_str()))
        .is_some_and(|rest| rest.starts_with('/'))
    {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

/// Messages published per tenant.
#[derive(Clone, Default)]
pub struct Usage(Arc<Mutex<HashMap<String, u64>>>);

impl Usage {
    pub fn of(&self, tenant: &str) -> u64 {
        self.0.lock().unwrap().get(tenant).copied().unwrap_or(0)
    }
}

// `message.publish` provides no `ClientInfo`, so no `Tenant` here: the
// tenant is the topic's second level.
#[on_message_publish(topic = "t/+/#")]
async fn meter(msg: &Message, State(usage): State<Usage>) -> Publish {
    if let Some(tenant) = msg.topic.split('/').nth(1) {
        *usage
            .0
            .lock()
            .unwrap()
            .entry(tenant.to_owned())
            .or_default() += 1;
    }
    Publish::Ignore
}

/// At most `limit` messages per client in each `window`; what is over it
/// is dropped.
#[derive(Clone)]
pub struct RateLimit {
    limit: u32,
    window: Duration,
    clients: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl RateLimit {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimit {
            limit,
            window,
            clients: Arc::default(),
        }
    }

    fn admits(&self, client_id: &str) -> bool {
        let mut clients = self.clients.lock().unwrap();
        let now = Instant::now();
        let (start, count) = clients.entry(client_id.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            (*start, *count) = (now, 0);
        }
        *count += 1;
        *count <= self.limit
    }

    async fn around(self, request: Request, next: Next) -> Result<Response, Status> {
        let message = request
            .event::<MessagePublishRequest>()
            .and_then(|p| p.message.as_ref());
        match message {
            Some(message) if !self.admits(request.client_id()) => {
                Ok(Response::drop_message(message))
            }
            _ => next.run(request).await,
        }
    }
}

/// The gateway's provider.
pub fn server(tenants: Tenants, usage: Usage, limit: RateLimit) -> Server {
    Server::new(provider![login, own_topics, meter])
        .state(tenants)
        .state(usage)
        .layer_on(
            [Hook::MessagePublish],
            middleware::from_fn(move |request, next| limit.clone().around(request, next)),
        )
}
