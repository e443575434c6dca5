//! The test broker: loads providers and calls them the way EMQX does.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::RwLock;
use tonic::Status;

use crate::event::*;
use crate::hook::Hook;
use crate::proto::v3::ValuedResponse;
use crate::proto::v3::valued_response::{ResponsedType, Value};
use crate::server::Server;
use crate::version::Version;

use super::client::TestClient;
use super::link::Link;

/// How the broker reaches its providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// No network: calls go straight to the provider's handlers, under the
    /// same deadline and panic guard as a served call.
    InProcess,
    /// Each provider is served on an ephemeral loopback port and called over
    /// gRPC with this protocol version, as that EMQX generation would.
    Grpc(Version),
}

/// What EMQX does when a call to a provider fails or times out (its
/// `failed_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailedAction {
    /// Refuse: authenticate and authorize answer `false`, a message stays
    /// as it was and the chain stops. EMQX's default.
    #[default]
    Deny,
    /// Skip this provider and go on with the next.
    Ignore,
}

/// One call the broker made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookCall {
    /// Which provider, by the order they were added.
    pub provider: usize,
    /// Which hook.
    pub hook: Hook,
}

/// What one provider answered one call, as EMQX received it: for
/// `client.authenticate`, `client.authorize` and `message.publish`, and for
/// every call that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderAnswer {
    /// Which provider, by the order they were added.
    pub provider: usize,
    /// Which hook.
    pub hook: Hook,
    /// What it answered.
    pub answer: Answered,
}

/// A provider's answer to one call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Answered {
    /// `IGNORE`: the result so far goes on unchanged. This is what a
    /// provider whose handlers all ignored the call answers, and what an
    /// unhandled hook answers.
    Ignore,
    /// `CONTINUE` with a new result for the next callback.
    Continue(Valued),
    /// `STOP_AND_RETURN`: the chain ends with this result.
    StopAndReturn(Valued),
    /// An answer EMQX cannot use (`unknown_responsed_value`), ignored.
    Unusable,
    /// The call failed; `failed_action` applied.
    Failed(tonic::Code),
}

/// The value of a `CONTINUE` or `STOP_AND_RETURN` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Valued {
    /// Authenticate and authorize: allowed or not.
    Bool(bool),
    /// Publish: the message as the provider answered it.
    Message(Message),
}

/// Builds a [`TestBroker`].
pub struct TestBrokerBuilder {
    servers: Vec<(Server, FailedAction)>,
    transport: Transport,
    cluster_name: String,
    request_timeout: Duration,
    authn_result: bool,
    authz_result: bool,
}

/// A provider as the broker runs it.
pub(crate) struct Loaded {
    pub(crate) link: Link,
    pub(crate) failed_action: FailedAction,
    /// The advertised hooks with their topics (kept for `message.*` only);
    /// `None` when loading failed.
    pub(crate) hooks: Option<Vec<(Hook, Vec<String>)>>,
}

/// An EMQX stand-in driving one or more providers. See the
/// [module documentation](super).
pub struct TestBroker {
    pub(crate) providers: RwLock<Vec<Loaded>>,
    pub(crate) meta: RequestMeta,
    pub(crate) version: Version,
    pub(crate) request_timeout: Duration,
    pub(crate) authn_result: bool,
    pub(crate) authz_result: bool,
    calls: Mutex<Vec<HookCall>>,
    answers: Mutex<Vec<ProviderAnswer>>,
    warnings: Mutex<Vec<String>>,
    pub(crate) subscriptions: Mutex<Vec<super::client::Subscription>>,
}

impl TestBroker {
    /// A builder: transport in process, cluster `emqxcl`, `request_timeout`
    /// 5 s, `failed_action` deny.
    pub fn builder() -> TestBrokerBuilder {
        TestBrokerBuilder {
            servers: Vec::new(),
            transport: Transport::InProcess,
            cluster_name: "emqxcl".to_owned(),
            request_timeout: Duration::from_secs(5),
            authn_result: true,
            authz_result: true,
        }
    }
}

impl TestBrokerBuilder {
    /// Adds a provider, after those added before (EMQX calls them in order),
    /// with `failed_action = deny`.
    pub fn provider(self, server: Server) -> Self {
        self.provider_with(server, FailedAction::Deny)
    }

    /// Adds a provider with its own `failed_action`.
    pub fn provider_with(mut self, server: Server, failed_action: FailedAction) -> Self {
        self.servers.push((server, failed_action));
        self
    }

    /// In process (the default) or over gRPC with one protocol version.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The cluster name sent in every request's `meta` (`emqxcl` by default).
    pub fn cluster_name(mut self, name: impl Into<String>) -> Self {
        self.cluster_name = name.into();
        self
    }

    /// How long the broker waits for each call (EMQX's `request_timeout`).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// What EMQX's own authenticators decided before ExHook is asked
    /// (`true` unless set: no authenticator, or the legacy profile).
    pub fn authn_result(mut self, allowed: bool) -> Self {
        self.authn_result = allowed;
        self
    }

    /// What EMQX's own authorization decided before ExHook is asked
    /// (`true` unless set: `authorization.no_match = allow`).
    pub fn authz_result(mut self, allowed: bool) -> Self {
        self.authz_result = allowed;
        self
    }

    /// Starts the providers and loads each (`OnProviderLoaded`).
    pub async fn start(self) -> Result<TestBroker, crate::Error> {
        let version = match self.transport {
            Transport::InProcess => Version::V3,
            Transport::Grpc(version) => version,
        };
        let meta = RequestMeta {
            node: "emqx@127.0.0.1".to_owned(),
            version: broker_version(version).to_owned(),
            sysdescr: "EMQX".to_owned(),
            cluster_name: self.cluster_name,
        };
        let mut providers = Vec::new();
        for (server, failed_action) in self.servers {
            let link = match self.transport {
                Transport::InProcess => Link::InProcess {
                    dispatcher: server.into_dispatcher()?,
                    version,
                    down: false,
                },
                Transport::Grpc(version) => {
                    let listener =
                        tokio::net::TcpListener::bind("127.0.0.1:0")
                            .await
                            .map_err(|source| crate::Error::Bind {
                                address: "127.0.0.1:0".to_owned(),
                                source,
                            })?;
                    let address = listener.local_addr().map_err(|source| crate::Error::Bind {
                        address: "127.0.0.1:0".to_owned(),
                        source,
                    })?;
                    server.check()?;
                    let stop = server.shutdown_handle();
                    let task = tokio::spawn(server.serve_on(listener, std::future::pending()));
                    let channel =
                        tonic::transport::Channel::from_shared(format!("http://{address}"))
                            .map_err(|error| crate::Error::ListenAddress {
                                value: address.to_string(),
                                reason: error.to_string(),
                            })?
                            .connect_lazy();
                    Link::Grpc {
                        channel,
                        version,
                        stop,
                        task: Some(task),
                    }
                }
            };
            providers.push(Loaded {
                link,
                failed_action,
                hooks: None,
            });
        }
        let broker = TestBroker {
            providers: RwLock::new(providers),
            meta,
            version,
            request_timeout: self.request_timeout,
            authn_result: self.authn_result,
            authz_result: self.authz_result,
            calls: Mutex::default(),
            answers: Mutex::default(),
            warnings: Mutex::default(),
            subscriptions: Mutex::default(),
        };
        broker.load().await;
        Ok(broker)
    }
}

fn broker_version(version: Version) -> &'static str {
    match version {
        Version::V1 => "4.4.19",
        Version::V2 => "5.8.9",
        Version::V3 => "5.9.0",
    }
}

/// How EMQX reads one valued answer.
pub(crate) enum Answer<T> {
    Ignore,
    Continue(T),
    Stop(T),
    /// `unknown_responsed_value`: ignored.
    Unusable,
}

impl<T> Answer<T> {
    /// As [`TestBroker::answers`] records it.
    fn recorded(&self, valued: impl Fn(&T) -> Valued) -> Answered {
        match self {
            Answer::Ignore => Answered::Ignore,
            Answer::Continue(value) => Answered::Continue(valued(value)),
            Answer::Stop(value) => Answered::StopAndReturn(valued(value)),
            Answer::Unusable => Answered::Unusable,
        }
    }
}

impl TestBroker {
    /// Calls `OnProviderLoaded` on every provider and keeps what each
    /// advertised, as `emqx_exhook_server:resolve_hookspec/1` does.
    pub async fn load(&self) {
        let request = ProviderLoadedRequest {
            broker: BrokerInfo {
                version: self.meta.version.clone(),
                sysdescr: "EMQX".to_owned(),
                uptime: match self.version {
                    Version::V1 => Uptime::Text("1 seconds".to_owned()),
                    _ => Uptime::Millis(1000),
                },
                datetime: "2026-01-01T00:00:00.000000000+00:00".to_owned(),
            },
            meta: self.meta.clone(),
        };
        let mut providers = self.providers.write().await;
        for (index, provider) in providers.iter_mut().enumerate() {
            self.record(index, Hook::ProviderLoaded);
            provider.hooks = match provider
                .link
                .call(request.clone(), self.request_timeout)
                .await
            {
                Ok(loaded) => resolve(&loaded.hooks, index, self),
                Err(status) => {
                    self.warn(format!("provider {index}: load failed: {status}"));
                    None
                }
            };
        }
    }

    /// A client of this broker, with realistic defaults (see [`TestClient`]).
    pub fn client(&self, clientid: impl Into<String>) -> TestClient<'_> {
        TestClient::new(self, clientid.into())
    }

    /// The hooks provider `index` advertised, with the topics EMQX keeps
    /// (those of `message.*` hooks); `None` when it failed to load.
    pub async fn advertised(&self, index: usize) -> Option<Vec<(Hook, Vec<String>)>> {
        self.providers
            .read()
            .await
            .get(index)
            .and_then(|p| p.hooks.clone())
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<HookCall> {
        self.calls
            .lock()
            .map(|calls| calls.clone())
            .unwrap_or_default()
    }

    /// The hooks called so far, in order, and forgets them.
    pub fn take_hooks(&self) -> Vec<Hook> {
        self.calls
            .lock()
            .map(|mut calls| calls.drain(..).map(|call| call.hook).collect())
            .unwrap_or_default()
    }

    /// What each provider answered so far, in order: the answers of
    /// `client.authenticate`, `client.authorize` and `message.publish`, and
    /// every failed call. Tells an ignored login from an allowed one, which
    /// [`ConnectOutcome`](super::ConnectOutcome) cannot: with
    /// [`authn_result`](TestBrokerBuilder::authn_result) `true` (the
    /// default, as EMQX without other authenticators) both connect.
    ///
    /// ```
    /// use exhook_runtime::testing::{Answered, ProviderAnswer, TestBroker, Valued};
    /// use exhook_runtime::prelude::*;
    ///
    /// #[on_client_authenticate]
    /// async fn admins(client: &ClientInfo) -> Decision {
    ///     if client.username == "admin" { Decision::Allow } else { Decision::Ignore }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let broker = TestBroker::builder().provider(Server::new(provider![admins])).start().await.unwrap();
    /// assert!(broker.client("a").username("admin").connect().await.is_allowed());
    /// assert!(broker.client("b").username("guest").connect().await.is_allowed());
    /// let answers: Vec<Answered> = broker.take_answers().into_iter().map(|a| a.answer).collect();
    /// assert_eq!(answers, [Answered::StopAndReturn(Valued::Bool(true)), Answered::Ignore]);
    /// # }
    /// ```
    pub fn answers(&self) -> Vec<ProviderAnswer> {
        self.answers
            .lock()
            .map(|answers| answers.clone())
            .unwrap_or_default()
    }

    /// What each provider answered so far, as [`answers`](Self::answers),
    /// and forgets it.
    pub fn take_answers(&self) -> Vec<ProviderAnswer> {
        self.answers
            .lock()
            .map(|mut answers| std::mem::take(&mut *answers))
            .unwrap_or_default()
    }

    fn answered(&self, provider: usize, hook: Hook, answer: Answered) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.push(ProviderAnswer {
                provider,
                hook,
                answer,
            });
        }
    }

    /// What EMQX would have logged as warnings: failed calls, answers it
    /// could not use (`unknown_responsed_value`), failed loads.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Stops provider `index`, as if its process died: calls to it fail from
    /// now on and its `failed_action` applies.
    pub async fn stop_provider(&self, index: usize) {
        if let Some(provider) = self.providers.write().await.get_mut(index) {
            provider.link.stop().await;
        }
    }

    /// Unloads every provider (`OnProviderUnloaded`) and stops them.
    pub async fn shutdown(self) {
        let mut providers = self.providers.write().await;
        for (index, provider) in providers.iter_mut().enumerate() {
            if provider.hooks.is_some() {
                self.record(index, Hook::ProviderUnloaded);
                let request = ProviderUnloadedRequest {
                    meta: Some(self.meta.clone()),
                };
                let _ = provider.link.call(request, self.request_timeout).await;
            }
            provider.link.stop().await;
        }
    }

    pub(crate) fn record(&self, provider: usize, hook: Hook) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(HookCall { provider, hook });
        }
    }

    pub(crate) fn warn(&self, warning: String) {
        if let Ok(mut warnings) = self.warnings.lock() {
            warnings.push(warning);
        }
    }

    /// Reads a valued answer with a `bool`, as `merge_responsed_bool/2`.
    pub(crate) fn bool_answer(
        &self,
        index: usize,
        hook: Hook,
        answer: ValuedResponse,
    ) -> Answer<bool> {
        let read = self.read_answer(index, hook, answer, |value| match value {
            Value::BoolResult(value) => Some(value),
            _ => None,
        });
        self.answered(index, hook, read.recorded(|value| Valued::Bool(*value)));
        read
    }

    /// Reads a valued answer with a message, as `merge_responsed_message/2`.
    pub(crate) fn message_answer(&self, index: usize, answer: ValuedResponse) -> Answer<Message> {
        let hook = Hook::MessagePublish;
        let read = self.read_answer(index, hook, answer, |value| match value {
            Value::Message(message) => Some(message),
            _ => None,
        });
        self.answered(index, hook, read.recorded(|m| Valued::Message(m.clone())));
        read
    }

    /// Reads a valued answer whose value `value_of` accepts; anything else
    /// is `unknown_responsed_value`, ignored with a warning.
    fn read_answer<T>(
        &self,
        index: usize,
        hook: Hook,
        answer: ValuedResponse,
        value_of: impl Fn(Value) -> Option<T>,
    ) -> Answer<T> {
        let kind = ResponsedType::try_from(answer.r#type);
        let shown = format!("(type {kind:?}, value {:?})", answer.value);
        match (kind, answer.value.and_then(value_of)) {
            (Ok(ResponsedType::Ignore), _) => Answer::Ignore,
            (Ok(ResponsedType::Continue), Some(value)) => Answer::Continue(value),
            (Ok(ResponsedType::StopAndReturn), Some(value)) => Answer::Stop(value),
            _ => {
                self.warn(format!(
                    "provider {index}: {hook}: unknown_responsed_value {shown}; ignored"
                ));
                Answer::Unusable
            }
        }
    }

    /// A failed call, logged as EMQX does.
    pub(crate) fn failed(&self, index: usize, hook: Hook, status: &Status) {
        self.answered(index, hook, Answered::Failed(status.code()));
        self.warn(format!(
            "provider {index}: {hook} failed: {:?}: {}",
            status.code(),
            status.message()
        ));
    }

    /// Whether provider `hooks` asked for `hook` on `topic` (`None` for
    /// hooks without topics), as `emqx_exhook_server:call/3` decides.
    pub(crate) fn wants(hooks: &[(Hook, Vec<String>)], hook: Hook, topic: Option<&str>) -> bool {
        let Some((_, topics)) = hooks.iter().find(|(h, _)| *h == hook) else {
            return false;
        };
        match topic {
            Some(topic) if hook.is_message_hook() => {
                topics.is_empty()
                    || topics
                        .iter()
                        .any(|filter| exhook_topic::matches(filter, topic))
            }
            _ => true,
        }
    }
}

/// The advertised hook list as EMQX keeps it: unknown names fail the whole
/// load, the first of repeated names wins, topics only for `message.*`.
fn resolve(
    specs: &[crate::proto::v3::HookSpec],
    index: usize,
    broker: &TestBroker,
) -> Option<Vec<(Hook, Vec<String>)>> {
    let mut hooks: Vec<(Hook, Vec<String>)> = Vec::new();
    for spec in specs {
        if spec.name.is_empty() {
            continue;
        }
        let known = Hook::from_name(&spec.name)
            .filter(|hook| hook.is_advertisable() && hook.name(broker.version) == spec.name);
        let Some(hook) = known else {
            broker.warn(format!(
                "provider {index}: load failed: unknown_hookpoint {:?}",
                spec.name
            ));
            return None;
        };
        if hooks.iter().any(|(h, _)| *h == hook) {
            continue;
        }
        let topics = if hook.is_message_hook() {
            spec.topics.clone()
        } else {
            Vec::new()
        };
        hooks.push((hook, topics));
    }
    Some(hooks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v3::valued_response::{ResponsedType, Value};

    fn answer(kind: ResponsedType, value: Option<Value>) -> ValuedResponse {
        ValuedResponse {
            r#type: kind as i32,
            value,
        }
    }

    #[tokio::test]
    async fn answers_emqx_cannot_use_count_as_ignore_with_a_warning() {
        let broker = TestBroker::builder().start().await.unwrap();
        let message = Some(Value::Message(Message::default()));
        let truth = Some(Value::BoolResult(true));
        assert!(matches!(
            broker.bool_answer(
                0,
                Hook::ClientAuthenticate,
                answer(ResponsedType::StopAndReturn, truth.clone())
            ),
            Answer::Stop(true)
        ));
        assert!(matches!(
            broker.bool_answer(
                0,
                Hook::ClientAuthenticate,
                answer(ResponsedType::Continue, truth.clone())
            ),
            Answer::Continue(true)
        ));
        assert!(matches!(
            broker.bool_answer(
                0,
                Hook::ClientAuthenticate,
                answer(ResponsedType::Ignore, None)
            ),
            Answer::Ignore
        ));
        assert!(broker.warnings().is_empty());
        // A message where a bool belongs, no value, an unknown type.
        assert!(matches!(
            broker.bool_answer(
                0,
                Hook::ClientAuthenticate,
                answer(ResponsedType::StopAndReturn, message.clone())
            ),
            Answer::Unusable
        ));
        assert!(matches!(
            broker.bool_answer(
                0,
                Hook::ClientAuthenticate,
                answer(ResponsedType::Continue, None)
            ),
            Answer::Unusable
        ));
        let unknown = ValuedResponse {
            r#type: 7,
            value: truth.clone(),
        };
        assert!(matches!(
            broker.bool_answer(0, Hook::ClientAuthenticate, unknown),
            Answer::Unusable
        ));
        // A bool where a message belongs.
        assert!(matches!(
            broker.message_answer(0, answer(ResponsedType::StopAndReturn, truth)),
            Answer::Unusable
        ));
        assert!(matches!(
            broker.message_answer(0, answer(ResponsedType::Continue, message)),
            Answer::Continue(_)
        ));
        let warnings = broker.warnings();
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .all(|w| w.contains("unknown_responsed_value")),
            "{warnings:?}"
        );
        let answers: Vec<Answered> = broker.answers().into_iter().map(|a| a.answer).collect();
        assert_eq!(
            answers,
            [
                Answered::StopAndReturn(Valued::Bool(true)),
                Answered::Continue(Valued::Bool(true)),
                Answered::Ignore,
                Answered::Unusable,
                Answered::Unusable,
                Answered::Unusable,
                Answered::Unusable,
                Answered::Continue(Valued::Message(Message::default())),
            ]
        );
    }
}
