//! Runs one hook call through a provider's handlers, with EMQX's chain
//! rules, and builds EMQX's answer.

use std::future::Future;
use std::sync::Arc;

use tonic::Status;

use crate::event::*;
use crate::extract::{Call, ChainValue};
use crate::handler::{AuthChain, HandlerEntry, PublishChain, Table};
use crate::hook::{Hook, HookSet, hook_table};
use crate::log::announce;
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};
use crate::provider::LoadedHooks;
use crate::route::Route;
use crate::state::StateMap;
use crate::supervise::Supervision;
use crate::version::Version;

/// Everything a running server shares between calls.
pub(crate) struct Dispatcher {
    table: Table,
    /// By provider position: whether the handler takes the publish message
    /// by value only.
    owns_message: Vec<bool>,
    routes: Vec<Route>,
    state: StateMap,
    hooks: LoadedHooks,
    /// Deadlines, limits and metrics around each call.
    pub(crate) supervision: Supervision,
    /// Publish answers carry only what EMQX reads (see
    /// `Server::compact_publish_answers`).
    compact_publish_answers: bool,
}

macro_rules! dispatch_methods {
    ($($variant:ident, $attr:ident, $req:ident, $name:literal, $v1:literal, $kind:ident, $topic:ident;)*) => {
        impl Dispatcher {
            $(
                /// Runs the hook's handlers. A plain function returning the
                /// chain's future, so that no extra layer holds the request.
                pub(crate) fn $attr(
                    self: Arc<Self>,
                    request: $req,
                    version: Version,
                ) -> impl Future<Output = Result<dispatch_method!(@response $kind), Status>> + Send + 'static {
                    dispatch_method!($kind, self, $variant, $attr, request, version)
                }
            )*
        }
    };
}

macro_rules! dispatch_method {
    (@response Notify) => {
        EmptySuccess
    };
    (@response Auth) => {
        ValuedResponse
    };
    (@response Publish) => {
        ValuedResponse
    };
    (@response Loaded) => {
        LoadedResponse
    };
    (Notify, $this:ident, $variant:ident, $attr:ident, $request:ident, $version:ident) => {
        $this.notify(|table| &table.$attr, Hook::$variant, $request, $version)
    };
    (Auth, $this:ident, $variant:ident, $attr:ident, $request:ident, $version:ident) => {
        $this.decide(|table| &table.$attr, Hook::$variant, $request, $version)
    };
    (Publish, $this:ident, $variant:ident, $attr:ident, $request:ident, $version:ident) => {
        $this.publish($request, $version)
    };
    (Loaded, $this:ident, $variant:ident, $attr:ident, $request:ident, $version:ident) => {
        $this.loaded($request, $version)
    };
}

hook_table!(dispatch_methods);

type Handlers<R, O> = [(usize, crate::handler::Erased<R, O>)];

impl Dispatcher {
    pub(crate) fn new(
        entries: &[HandlerEntry],
        hooks: LoadedHooks,
        state: StateMap,
        supervision: Supervision,
        compact_publish_answers: bool,
    ) -> Self {
        let routes = Hook::ALL
            .iter()
            .map(|hook| Route::new(*hook, entries.iter().map(|entry| entry.spec())))
            .collect();
        Dispatcher {
            table: Table::of(entries),
            owns_message: entries
                .iter()
                .map(|entry| entry.spec().owns_message())
                .collect(),
            routes,
            state,
            hooks,
            supervision,
            compact_publish_answers,
        }
    }

    fn route(&self, hook: Hook) -> &Route {
        &self.routes[hook as usize]
    }

    fn call<'a, R>(&'a self, request: &'a R, version: Version) -> Call<'a, R> {
        Call {
            request,
            state: &self.state,
            version,
            value: ChainValue::None,
        }
    }

    /// A notification: every matching handler sees the event; the first
    /// error is the answer.
    // Not an `async fn`, which would hold its arguments twice
    // (rust-lang/rust#62958): this future is boxed on every call.
    #[allow(clippy::manual_async_fn)]
    fn notify<R: crate::route::Topics + Send + Sync + 'static>(
        self: Arc<Self>,
        select: fn(&Table) -> &Handlers<R, ()>,
        hook: Hook,
        request: R,
        version: Version,
    ) -> impl Future<Output = Result<EmptySuccess, Status>> + Send + 'static {
        async move {
            let handlers = select(&self.table);
            if handlers.is_empty() {
                return Ok(EmptySuccess {});
            }
            let hits = self.route(hook).hits_for(&request);
            let call = self.call(&request, version);
            let mut first_error = None;
            for (index, handler) in handlers {
                if hits.contains(*index)
                    && let Err(status) = handler(call).await
                {
                    first_error.get_or_insert(status);
                }
            }
            match first_error {
                Some(status) => Err(status),
                None => Ok(EmptySuccess {}),
            }
        }
    }

    /// Authenticate or authorize: EMQX's chain over a `bool`.
    // Not an `async fn`, which would hold its arguments twice
    // (rust-lang/rust#62958): this future is boxed on every call.
    #[allow(clippy::manual_async_fn)]
    fn decide<R: crate::route::Topics + AuthRequest + Send + Sync + 'static>(
        self: Arc<Self>,
        select: fn(&Table) -> &Handlers<R, crate::Decision>,
        hook: Hook,
        request: R,
        version: Version,
    ) -> impl Future<Output = Result<ValuedResponse, Status>> + Send + 'static {
        async move {
            let handlers = select(&self.table);
            if handlers.is_empty() {
                return Ok(ignore());
            }
            let hits = self.route(hook).hits_for(&request);
            let mut chain = AuthChain::new(request.result());
            let call = self.call(&request, version);
            for (index, handler) in handlers {
                if !hits.contains(*index) {
                    continue;
                }
                let call = Call {
                    value: ChainValue::Bool(chain.value),
                    ..call
                };
                chain.apply(handler(call).await?);
                if chain.stopped {
                    break;
                }
            }
            Ok(bool_response(chain))
        }
    }

    /// Publish: EMQX's chain over the message.
    // Not an `async fn`, which would hold its arguments twice
    // (rust-lang/rust#62958): this future is boxed on every call.
    #[allow(clippy::manual_async_fn)]
    fn publish(
        self: Arc<Self>,
        mut request: MessagePublishRequest,
        version: Version,
    ) -> impl Future<Output = Result<ValuedResponse, Status>> + Send + 'static {
        async move {
            let handlers = &self.table.on_message_publish;
            if handlers.is_empty() {
                return Ok(ignore());
            }
            let route = self.route(Hook::MessagePublish);
            let hits = route.hits_for(&request);
            let mut reached = handlers.iter().filter(|(index, _)| hits.contains(*index));
            if let (Some((index, handler)), None) = (reached.next(), reached.next())
                && self.owns_message[*index]
            {
                // One handler, taking the message by value: move it, not copy.
                let received = request.message.take().unwrap_or_default();
                // What a drop answers with, should the handler have consumed
                // the message: EMQX reads only `qos`, `topic`, `payload` and the
                // drop flag of a dropped message, and routes nothing.
                let qos = received.qos;
                let slot = std::sync::Mutex::new(Some(received));
                let call = Call {
                    value: ChainValue::Take(&slot),
                    ..self.call(&request, version)
                };
                let (kind, message) = match handler(call).await? {
                    crate::Publish::Ignore => return Ok(ignore()),
                    crate::Publish::Continue(message) => (proceed(), message),
                    crate::Publish::Stop(message) => (stop(), message),
                    crate::Publish::Drop => {
                        let left = slot.into_inner().ok().flatten();
                        let mut message = left.unwrap_or_else(|| Message {
                            qos,
                            ..Message::default()
                        });
                        message
                            .headers
                            .insert("allow_publish".to_owned(), "false".to_owned());
                        (stop(), message)
                    }
                };
                return Ok(ValuedResponse {
                    r#type: kind,
                    value: Some(valued_response::Value::Message(self.answered(message))),
                });
            }
            // Built only now, so that the fast path above does not carry it.
            let mut chain = PublishChain::new(hits);
            {
                let call = self.call(&request, version);
                let received = or_empty(&request.message);
                for (index, handler) in handlers {
                    if !chain.hits.contains(*index) {
                        continue;
                    }
                    let current = chain.current.as_ref().unwrap_or(received);
                    let answer = handler(Call {
                        value: ChainValue::Message(current),
                        ..call
                    })
                    .await?;
                    chain.apply(answer, route, &received.topic);
                    if chain.stopped {
                        break;
                    }
                }
            }
            if !chain.answered {
                return Ok(ignore());
            }
            let mut message = match chain.current {
                Some(message) => message,
                None => request.message.take().unwrap_or_default(),
            };
            if chain.dropped {
                message
                    .headers
                    .insert("allow_publish".to_owned(), "false".to_owned());
            }
            Ok(ValuedResponse {
                r#type: if chain.stopped { stop() } else { proceed() },
                value: Some(valued_response::Value::Message(self.answered(message))),
            })
        }
    }

    /// The load: every registered hook, narrowed by `on_provider_loaded`
    /// handlers.
    // Not an `async fn`, which would hold its arguments twice
    // (rust-lang/rust#62958): this future is boxed on every call.
    #[allow(clippy::manual_async_fn)]
    fn loaded(
        self: Arc<Self>,
        request: ProviderLoadedRequest,
        version: Version,
    ) -> impl Future<Output = Result<LoadedResponse, Status>> + Send + 'static {
        async move {
            let mut advertised = HookSet::ALL;
            let call = self.call(&request, version);
            for (_, handler) in &self.table.on_provider_loaded {
                if let crate::Advertise::Only(only) = handler(call).await? {
                    advertised = advertised.intersection(only);
                }
            }
            announce(format_args!(
                "loaded by {} ({} {}, cluster {:?}, protocol {}); hooks: {}",
                request.meta.node,
                request.broker.sysdescr,
                request.broker.version,
                request.meta.cluster_name,
                version,
                self.hooks.describe(version, advertised),
            ));
            Ok(LoadedResponse {
                hooks: self.hooks.specs(version, advertised),
            })
        }
    }
}

/// The `result` field of authenticate and authorize requests.
trait AuthRequest {
    fn result(&self) -> bool;
}

impl AuthRequest for ClientAuthenticateRequest {
    fn result(&self) -> bool {
        self.result
    }
}

impl AuthRequest for ClientAuthorizeRequest {
    fn result(&self) -> bool {
        self.result
    }
}

impl Dispatcher {
    /// The message a publish answer carries: as the handlers left it, or
    /// only what EMQX reads of it when answers are compact.
    fn answered(&self, message: Message) -> Message {
        if self.compact_publish_answers {
            what_emqx_reads(message)
        } else {
            message
        }
    }
}

/// The part of an answered message that EMQX reads (`assign_to_message/2`
/// and `enrich_header/2`): `qos`, `topic`, `payload` and the
/// `allow_publish` header.
fn what_emqx_reads(mut message: Message) -> Message {
    let mut headers = std::collections::BTreeMap::new();
    if let Some((name, allow)) = message.headers.remove_entry("allow_publish") {
        headers.insert(name, allow);
    }
    Message {
        qos: message.qos,
        topic: std::mem::take(&mut message.topic),
        payload: std::mem::take(&mut message.payload),
        headers,
        ..Message::default()
    }
}

fn proceed() -> i32 {
    valued_response::ResponsedType::Continue as i32
}

fn stop() -> i32 {
    valued_response::ResponsedType::StopAndReturn as i32
}

fn ignore() -> ValuedResponse {
    ValuedResponse {
        r#type: valued_response::ResponsedType::Ignore as i32,
        value: None,
    }
}

fn bool_response(chain: AuthChain) -> ValuedResponse {
    if !chain.answered {
        return ignore();
    }
    ValuedResponse {
        r#type: if chain.stopped { stop() } else { proceed() },
        value: Some(valued_response::Value::BoolResult(chain.value)),
    }
}
