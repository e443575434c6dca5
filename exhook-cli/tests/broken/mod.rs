//! A provider written by hand on tonic, without exhook, that breaks the
//! protocol: it advertises `client.authenticate` twice and topics on
//! `client.connect`, answers UNIMPLEMENTED for every hook it did not
//! advertise, answers authorize after 1.2 s, and has no health service. Its
//! publish answer breaks in the way chosen. With [`Break::OnlyDuplicateHook`]
//! it is correct but for one break: `message.publish` advertised twice.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use exhook_runtime::proto::v3::{
    EmptySuccess, HookSpec, LoadedResponse, MessagePublishRequest, ValuedResponse, valued_response,
};
use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

/// How the provider breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Break {
    /// Publish answers carry `bool_result`, the wrong `oneof`.
    PublishAnswersBool,
    /// Publish answers carry a message with only the payload.
    PublishDropsFields,
    /// `OnProviderLoaded` advertises a hook point that does not exist.
    UnknownHook,
    /// Correct but for `message.publish` advertised twice, on `t/#` and
    /// then on `u/#`: a health service, neutral answers to the hooks not
    /// advertised, publish answers that echo the message.
    OnlyDuplicateHook,
}

/// Serves the broken provider on an ephemeral loopback port.
pub(crate) async fn serve(kind: Break) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let health =
        (kind == Break::OnlyDuplicateHook).then(|| tonic_health::server::health_reporter().1);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(Broken(kind))
            .add_optional_service(health)
            .serve_with_incoming(incoming),
    );
    url
}

#[derive(Clone)]
struct Broken(Break);

impl NamedService for Broken {
    const NAME: &'static str = "emqx.exhook.v3.HookProvider";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Answers every request with `answer`, after `delay`.
struct Fixed<Resp> {
    answer: Resp,
    delay: Duration,
}

impl<Resp: Clone + Send + 'static> UnaryService<EmptySuccess> for Fixed<Resp> {
    type Response = Resp;
    type Future = BoxFuture<Result<Response<Resp>, Status>>;

    fn call(&mut self, _: Request<EmptySuccess>) -> Self::Future {
        let (answer, delay) = (self.answer.clone(), self.delay);
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(Response::new(answer))
        })
    }
}

/// Answers `message.publish` in the broken way chosen.
struct PublishAnswer(Break);

impl UnaryService<MessagePublishRequest> for PublishAnswer {
    type Response = ValuedResponse;
    type Future = std::future::Ready<Result<Response<ValuedResponse>, Status>>;

    fn call(&mut self, request: Request<MessagePublishRequest>) -> Self::Future {
        use valued_response::{ResponsedType, Value};
        let sent = request.into_inner().message.unwrap_or_default();
        let answer = match self.0 {
            Break::OnlyDuplicateHook => valued(ResponsedType::Continue, Value::Message(sent)),
            Break::PublishDropsFields => valued(
                ResponsedType::Continue,
                Value::Message(exhook_runtime::proto::v3::Message {
                    payload: sent.payload,
                    ..Default::default()
                }),
            ),
            _ => valued(ResponsedType::StopAndReturn, Value::BoolResult(true)),
        };
        std::future::ready(Ok(Response::new(answer)))
    }
}

/// Serves one rpc with a fixed answer.
async fn fixed<Resp>(
    answer: Resp,
    delay: Duration,
    request: http::Request<Body>,
) -> http::Response<Body>
where
    Resp: prost::Message + Default + Clone + Send + 'static,
{
    let mut grpc = Grpc::new(ProstCodec::<Resp, EmptySuccess>::default());
    grpc.unary(Fixed { answer, delay }, request).await
}

fn spec(name: &str, topics: &[&str]) -> HookSpec {
    HookSpec {
        name: name.to_owned(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn valued(kind: valued_response::ResponsedType, value: valued_response::Value) -> ValuedResponse {
    ValuedResponse {
        r#type: kind as i32,
        value: Some(value),
    }
}

impl tower_service::Service<http::Request<Body>> for Broken {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        use valued_response::{ResponsedType, Value};
        let kind = self.0;
        let rpc = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_owned();
        Box::pin(async move {
            let allow = valued(ResponsedType::StopAndReturn, Value::BoolResult(true));
            let response = match rpc.as_str() {
                "OnProviderLoaded" if kind == Break::OnlyDuplicateHook => {
                    let hooks = vec![
                        spec("client.authenticate", &[]),
                        spec("message.publish", &["t/#"]),
                        spec("message.publish", &["u/#"]),
                    ];
                    fixed(LoadedResponse { hooks }, Duration::ZERO, request).await
                }
                "OnClientAuthorize" if kind == Break::OnlyDuplicateHook => {
                    let ignore = ValuedResponse {
                        r#type: ResponsedType::Ignore as i32,
                        value: None,
                    };
                    fixed(ignore, Duration::ZERO, request).await
                }
                "OnProviderLoaded" => {
                    let mut hooks = vec![
                        spec("client.authenticate", &[]),
                        spec("client.authenticate", &[]),
                        spec("client.authorize", &[]),
                        spec("client.connect", &["x/#"]),
                        spec("message.publish", &["t/#"]),
                        spec("message.dropped", &[]),
                    ];
                    if kind == Break::UnknownHook {
                        hooks.push(spec("client.login", &[]));
                    }
                    fixed(LoadedResponse { hooks }, Duration::ZERO, request).await
                }
                "OnClientConnect" | "OnMessageDropped" => {
                    fixed(EmptySuccess {}, Duration::ZERO, request).await
                }
                "OnClientAuthenticate" => fixed(allow, Duration::ZERO, request).await,
                "OnClientAuthorize" => fixed(allow, Duration::from_millis(1200), request).await,
                "OnMessagePublish" => {
                    let mut grpc =
                        Grpc::new(ProstCodec::<ValuedResponse, MessagePublishRequest>::default());
                    grpc.unary(PublishAnswer(kind), request).await
                }
                _ if kind == Break::OnlyDuplicateHook => {
                    fixed(EmptySuccess {}, Duration::ZERO, request).await
                }
                _ => Status::unimplemented(format!("{rpc} is not implemented")).into_http(),
            };
            Ok(response)
        })
    }
}
