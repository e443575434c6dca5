//! The four kinds of hook, and how each runs its handlers: notifications,
//! bool decisions (authenticate, authorize), publish, and the load.

use std::future::Future;
use std::sync::Arc;

use tonic::Status;

use std::sync::Mutex;

use crate::chain::{DecideChain, PublishChain, dropped};
use crate::deadline::NeutralAnswer;
use crate::dispatch::Dispatcher;
use crate::event::{BrokerInfo, Message, RequestMeta};
use crate::extract::{Call, ChainValue, Rejection};
use crate::hook::HookSet;
use crate::hooks::{HookPoint, HookRequest, Provides};
use crate::log::announce;
use crate::metrics::Classify;
use crate::middleware::AsResponse;
use crate::outcome::{Advertise, Decision, Publish as PublishAnswer};
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};
use crate::unary::Encode;
use crate::version::Version;

mod sealed {
    pub trait Sealed {}
}

/// A kind of hook: what its handlers answer, what EMQX gets, and the chain
/// rules in between.
pub trait HookKind<H: HookPoint>: sealed::Sealed + Send + Sync + 'static {
    /// What a handler answers.
    type Answer: Send + 'static;
    /// What EMQX gets.
    type Response: prost::Message
        + Default
        + Classify
        + NeutralAnswer
        + AsResponse
        + Encode
        + Send
        + 'static;

    /// Runs the hook's handlers for one request.
    #[doc(hidden)]
    fn run(
        dispatcher: Arc<Dispatcher>,
        request: H::Request,
        version: Version,
    ) -> impl Future<Output = Result<Self::Response, Status>> + Send + 'static;

    /// What a handler whose argument was rejected answers.
    #[doc(hidden)]
    fn rejected(rejection: Rejection) -> Result<Self::Answer, Status>;
}

/// Notifications: every matching handler sees the event; the first error
/// is the answer.
#[derive(Debug)]
pub struct Notify;

/// Authenticate and authorize: EMQX's chain over a `bool`.
#[derive(Debug)]
pub struct Decide;

/// Publish: EMQX's chain over the message.
#[derive(Debug)]
pub struct Publish;

/// The load: every registered hook, narrowed by `on_provider_loaded`
/// handlers.
#[derive(Debug)]
pub struct Load;

impl sealed::Sealed for Notify {}
impl sealed::Sealed for Decide {}
impl sealed::Sealed for Publish {}
impl sealed::Sealed for Load {}

fn failure(message: String) -> Status {
    Status::unknown(message)
}

impl<H: HookPoint<Kind = Notify>> HookKind<H> for Notify {
    type Answer = ();
    type Response = EmptySuccess;

    // Not an `async fn`, which would hold its arguments twice
    // (rust-lang/rust#62958): this future is boxed on every call.
    #[allow(clippy::manual_async_fn)]
    fn run(
        dispatcher: Arc<Dispatcher>,
        request: H::Request,
        version: Version,
    ) -> impl Future<Output = Result<EmptySuccess, Status>> + Send + 'static {
        async move {
            let handlers = dispatcher.handlers::<H>();
            if handlers.is_empty() {
                return Ok(EmptySuccess {});
            }
            let hits = dispatcher.route(H::HOOK).hits_for(&request);
            let call = dispatcher.call::<H>(&request, version, ChainValue::None);
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

    fn rejected(rejection: Rejection) -> Result<(), Status> {
        match rejection {
            Rejection::Ignore | Rejection::Deny => Ok(()),
            Rejection::Error(message) => Err(failure(message)),
        }
    }
}

impl<H: HookPoint<Kind = Decide>> HookKind<H> for Decide {
    type Answer = Decision;
    type Response = ValuedResponse;

    #[allow(clippy::manual_async_fn)]
    fn run(
        dispatcher: Arc<Dispatcher>,
        request: H::Request,
        version: Version,
    ) -> impl Future<Output = Result<ValuedResponse, Status>> + Send + 'static {
        async move {
            let handlers = dispatcher.handlers::<H>();
            if handlers.is_empty() {
                return Ok(ignore());
            }
            let hits = dispatcher.route(H::HOOK).hits_for(&request);
            let start = matches!(request.chain_start(), ChainValue::Bool(true));
            let mut chain = DecideChain::new(start);
            for (index, handler) in handlers {
                if !hits.contains(*index) {
                    continue;
                }
                let value = ChainValue::Bool(chain.value);
                chain.apply(handler(dispatcher.call::<H>(&request, version, value)).await?);
                if chain.stopped {
                    break;
                }
            }
            if !chain.answered {
                return Ok(ignore());
            }
            Ok(ValuedResponse {
                r#type: if chain.stopped { stop() } else { proceed() },
                value: Some(valued_response::Value::BoolResult(chain.value)),
            })
        }
    }

    fn rejected(rejection: Rejection) -> Result<Decision, Status> {
        match rejection {
            Rejection::Ignore => Ok(Decision::Ignore),
            Rejection::Deny => Ok(Decision::Deny),
            Rejection::Error(message) => Err(failure(message)),
        }
    }
}

impl<H: HookPoint<Kind = Publish> + Provides<Message>> HookKind<H> for Publish {
    type Answer = PublishAnswer;
    type Response = ValuedResponse;

    #[allow(clippy::manual_async_fn)]
    fn run(
        dispatcher: Arc<Dispatcher>,
        mut request: H::Request,
        version: Version,
    ) -> impl Future<Output = Result<ValuedResponse, Status>> + Send + 'static {
        async move {
            let handlers = dispatcher.handlers::<H>();
            if handlers.is_empty() {
                return Ok(ignore());
            }
            let route = dispatcher.route(H::HOOK);
            let hits = route.hits_for(&request);
            let mut reached = handlers.iter().filter(|(index, _)| hits.contains(*index));
            if let (Some((index, handler)), None) = (reached.next(), reached.next())
                && dispatcher.moves_message(*index)
            {
                let message = H::take(&mut request);
                return Self::moved(&dispatcher, *handler, &request, message, version).await;
            }
            let received = H::piece(&request);
            let mut chain = PublishChain::new(hits);
            for (index, handler) in handlers {
                if !chain.hits.contains(*index) {
                    continue;
                }
                let current = chain.current.as_ref().unwrap_or(received);
                let value = ChainValue::Message(current);
                let answer = handler(dispatcher.call::<H>(&request, version, value)).await?;
                chain.apply(answer, route, &received.topic);
                if chain.stopped {
                    break;
                }
            }
            if !chain.answered {
                return Ok(ignore());
            }
            let kind = if chain.stopped { stop() } else { proceed() };
            let message = dispatcher.answered(chain.answer(received));
            Ok(ValuedResponse {
                r#type: kind,
                value: Some(valued_response::Value::Message(message)),
            })
        }
    }

    fn rejected(rejection: Rejection) -> Result<PublishAnswer, Status> {
        match rejection {
            Rejection::Ignore => Ok(PublishAnswer::Ignore),
            Rejection::Deny => Ok(PublishAnswer::Drop),
            Rejection::Error(message) => Err(failure(message)),
        }
    }
}

impl Publish {
    /// The call of a single handler that takes the message by value and
    /// nothing else of it: the message is moved to it, not copied. What it
    /// answers is what the chain would answer.
    // Not an `async fn`, which would hold its arguments twice
    // (rust-lang/rust#62958).
    #[allow(clippy::manual_async_fn)]
    fn moved<'a, H: HookPoint<Kind = Publish> + Provides<Message>>(
        dispatcher: &'a Dispatcher,
        handler: crate::handler::Erased<H>,
        request: &'a H::Request,
        message: Message,
        version: Version,
    ) -> impl Future<Output = Result<ValuedResponse, Status>> + Send + 'a {
        async move {
            // A drop answers with what EMQX reads of the message so far, which
            // the handler consumed: keep that much.
            let (qos, topic, payload) =
                (message.qos, message.topic.clone(), message.payload.clone());
            let slot = Mutex::new(Some(message));
            let call = Call {
                owned: Some(&slot),
                ..dispatcher.call::<H>(request, version, ChainValue::None)
            };
            let (kind, message) = match handler(call).await? {
                PublishAnswer::Ignore => return Ok(ignore()),
                PublishAnswer::Continue(message) => (proceed(), dispatcher.answered(message)),
                PublishAnswer::Stop(message) => (stop(), dispatcher.answered(message)),
                PublishAnswer::Drop => {
                    let received = Message {
                        qos,
                        topic,
                        payload,
                        ..Message::default()
                    };
                    (stop(), dropped(&received))
                }
            };
            Ok(ValuedResponse {
                r#type: kind,
                value: Some(valued_response::Value::Message(message)),
            })
        }
    }
}

impl<H> HookKind<H> for Load
where
    H: HookPoint<Kind = Load> + Provides<BrokerInfo> + Provides<RequestMeta>,
{
    type Answer = Advertise;
    type Response = LoadedResponse;

    #[allow(clippy::manual_async_fn)]
    fn run(
        dispatcher: Arc<Dispatcher>,
        request: H::Request,
        version: Version,
    ) -> impl Future<Output = Result<LoadedResponse, Status>> + Send + 'static {
        async move {
            let mut advertised = HookSet::ALL;
            let call = dispatcher.call::<H>(&request, version, ChainValue::None);
            for (_, handler) in dispatcher.handlers::<H>() {
                if let Advertise::Only(only) = handler(call).await? {
                    advertised = advertised.intersection(only);
                }
            }
            let broker: &BrokerInfo = H::piece(&request);
            let meta: &RequestMeta = H::piece(&request);
            let hooks = dispatcher.loaded_hooks();
            announce(format_args!(
                "loaded by {} ({} {}, cluster {:?}, protocol {}); hooks: {}",
                meta.node,
                broker.sysdescr,
                broker.version,
                meta.cluster_name,
                version,
                hooks.describe(version, advertised),
            ));
            Ok(LoadedResponse {
                hooks: hooks.specs(version, advertised),
            })
        }
    }

    fn rejected(rejection: Rejection) -> Result<Advertise, Status> {
        match rejection {
            Rejection::Ignore => Ok(Advertise::All),
            Rejection::Deny => Ok(Advertise::Only(HookSet::EMPTY)),
            Rejection::Error(message) => Err(failure(message)),
        }
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
