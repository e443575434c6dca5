//! Runs one hook call through a provider's handlers and builds EMQX's answer.

use std::marker::PhantomData;

use tonic::Status;

use crate::event::*;
use crate::extract::{Call, ChainValue};
use crate::handler::{AuthChain, HandlerList, PublishChain};
use crate::hook::{Hook, HookSet, hook_table};
use crate::log::announce;
use crate::proto::v3::{EmptySuccess, LoadedResponse, ValuedResponse, valued_response};
use crate::provider::LoadedHooks;
use crate::route::Route;
use crate::state::StateMap;
use crate::version::Version;

/// Everything a running server shares between calls.
pub(crate) struct Dispatcher<L> {
    routes: Vec<Route>,
    state: StateMap,
    hooks: LoadedHooks,
    list: PhantomData<fn() -> L>,
}

macro_rules! dispatch_methods {
    ($($variant:ident, $attr:ident, $req:ident, $name:literal, $v1:literal, $kind:ident, $topic:ident;)*) => {
        impl<L: HandlerList> Dispatcher<L> {
            $(dispatch_method!($kind, $variant, $attr, $req);)*
        }
    };
}

macro_rules! dispatch_method {
    (Notify, $variant:ident, $attr:ident, $req:ident) => {
        pub(crate) async fn $attr(
            &self,
            request: $req,
            version: Version,
        ) -> Result<EmptySuccess, Status> {
            let hits = self.route(Hook::$variant).hits_for(&request);
            L::$attr(self.call(&request, version), &hits, 0).await?;
            Ok(EmptySuccess {})
        }
    };
    (Auth, $variant:ident, $attr:ident, $req:ident) => {
        pub(crate) async fn $attr(
            &self,
            request: $req,
            version: Version,
        ) -> Result<ValuedResponse, Status> {
            let hits = self.route(Hook::$variant).hits_for(&request);
            let mut chain = AuthChain::new(request.result);
            L::$attr(self.call(&request, version), &hits, &mut chain, 0).await?;
            Ok(bool_response(chain))
        }
    };
    (Publish, $variant:ident, $attr:ident, $req:ident) => {
        pub(crate) async fn $attr(
            &self,
            mut request: $req,
            version: Version,
        ) -> Result<ValuedResponse, Status> {
            let route = self.route(Hook::$variant);
            let mut chain = PublishChain::new(route.hits_for(&request));
            L::$attr(self.call(&request, version), route, &mut chain, 0).await?;
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
                value: Some(valued_response::Value::Message(message)),
            })
        }
    };
    (Loaded, $variant:ident, $attr:ident, $req:ident) => {
        pub(crate) async fn $attr(
            &self,
            request: $req,
            version: Version,
        ) -> Result<LoadedResponse, Status> {
            let mut advertised = HookSet::ALL;
            L::$attr(self.call(&request, version), &mut advertised).await?;
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
    };
}

hook_table!(dispatch_methods);

impl<L: HandlerList> Dispatcher<L> {
    pub(crate) fn new(hooks: LoadedHooks, state: StateMap) -> Self {
        let handlers: Vec<_> = crate::handler::SpecNode::iter(L::SPECS).collect();
        let routes = Hook::ALL
            .iter()
            .map(|hook| Route::new(*hook, handlers.iter().copied()))
            .collect();
        Dispatcher {
            routes,
            state,
            hooks,
            list: PhantomData,
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
