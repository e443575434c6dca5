//! Layers around hook calls (`Server::layer`, `Server::layer_on`), in
//! process and over gRPC: what they see, answering on their own, order,
//! and the supervision around them.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exhook_runtime::event::MessagePublishRequest;
use exhook_runtime::middleware::{self, Next, Request, Response};
use exhook_runtime::prelude::*;
use exhook_runtime::testing::{Access, ConnectOutcome, PublishOutcome, TestBroker, Transport};
use support::*;
use tonic::{Code, Status};

const TRANSPORTS: [Transport; 4] = [
    Transport::InProcess,
    Transport::Grpc(Version::V1),
    Transport::Grpc(Version::V2),
    Transport::Grpc(Version::V3),
];

/// How many times each handler ran.
#[derive(Default)]
struct Ran(Mutex<Vec<&'static str>>);

#[on_client_authenticate]
async fn authenticate(client: &ClientInfo, State(ran): State<Arc<Ran>>) -> Decision {
    ran.0.lock().unwrap().push("authenticate");
    match client.username.as_str() {
        "slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Decision::Allow
        }
        _ => Decision::Allow,
    }
}

#[on_client_authorize]
async fn authorize(State(ran): State<Arc<Ran>>) -> Decision {
    ran.0.lock().unwrap().push("authorize");
    Decision::Allow
}

#[on_message_publish]
async fn publish(State(ran): State<Arc<Ran>>) -> Publish {
    ran.0.lock().unwrap().push("publish");
    Publish::Ignore
}

#[on_session_created]
async fn created() {}

fn server(ran: &Arc<Ran>) -> Server {
    Server::new(provider![authenticate, authorize, publish, created]).state(ran.clone())
}

/// What a layer saw of one call.
type Seen = Arc<Mutex<Vec<(Hook, Version, String, Option<String>)>>>;

/// A layer that records what it saw of each call.
fn recording(
    seen: Seen,
) -> middleware::FromFnLayer<impl Fn(Request, Next) -> Forward + Clone + Send + Sync + 'static> {
    middleware::from_fn(move |request: Request, next: Next| {
        seen.lock().unwrap().push((
            request.hook(),
            request.version(),
            request.client_id().to_owned(),
            request.topic().map(str::to_owned),
        ));
        Box::pin(next.run(request)) as Forward
    })
}

type Forward = std::pin::Pin<Box<dyn Future<Output = Result<Response, Status>> + Send>>;

async fn broker(transport: Transport, server: Server) -> TestBroker {
    TestBroker::builder()
        .transport(transport)
        .provider(server)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_layer_sees_every_call_with_its_hook_version_client_and_topic() {
    for transport in TRANSPORTS {
        let version = match transport {
            Transport::Grpc(version) => version,
            _ => Version::V3,
        };
        let (ran, seen) = (Arc::new(Ran::default()), Seen::default());
        let broker = broker(transport, server(&ran).layer(recording(seen.clone()))).await;
        let client = broker.client("c1");
        assert_eq!(client.connect().await, ConnectOutcome::Allowed);
        assert_eq!(client.subscribe("$share/g/t/1", 0).await, Access::Allowed);
        assert!(client.publish("t/1", "x").await.message().is_some());

        let seen = seen.lock().unwrap().clone();
        let with = |hook, client: &str, topic: Option<&str>| {
            (hook, version, client.to_owned(), topic.map(str::to_owned))
        };
        assert_eq!(
            seen,
            [
                with(Hook::ProviderLoaded, "", None),
                with(Hook::ClientAuthenticate, "c1", None),
                with(Hook::SessionCreated, "c1", None),
                with(Hook::ClientAuthorize, "c1", Some("t/1")),
                with(Hook::ClientAuthorize, "c1", Some("t/1")),
                with(Hook::MessagePublish, "c1", Some("t/1")),
            ],
            "{transport:?}"
        );
        assert_eq!(
            *ran.0.lock().unwrap(),
            ["authenticate", "authorize", "authorize", "publish"]
        );
    }
}

#[tokio::test]
async fn a_layer_answers_on_its_own_and_the_handlers_never_run() {
    for transport in TRANSPORTS {
        let ran = Arc::new(Ran::default());
        let gate = middleware::from_fn(|request: Request, next: Next| async move {
            if request.client_id() == "blocked" {
                return Ok(Response::from(Decision::Deny));
            }
            let spam = request.event::<MessagePublishRequest>();
            if let Some(message) = spam.and_then(|publish| publish.message.as_ref())
                && message.topic.starts_with("spam/")
            {
                return Ok(Response::drop_message(message));
            }
            next.run(request).await
        });
        let server = server(&ran).layer_on([Hook::ClientAuthenticate, Hook::MessagePublish], gate);
        let broker = broker(transport, server).await;

        assert_eq!(
            broker.client("blocked").connect().await,
            ConnectOutcome::Denied
        );
        let client = broker.client("c1");
        assert_eq!(client.connect().await, ConnectOutcome::Allowed);
        match client.publish("spam/1", "buy").await {
            PublishOutcome::Dropped(message) => {
                assert_eq!(
                    (message.topic.as_str(), &message.payload[..]),
                    ("spam/1", &b"buy"[..])
                );
            }
            other => panic!("{transport:?}: {other:?}"),
        }
        assert!(client.publish("t/1", "x").await.message().is_some());
        assert_eq!(
            *ran.0.lock().unwrap(),
            ["authenticate", "authorize", "authorize", "publish"],
            "{transport:?}"
        );
    }
}

#[tokio::test]
async fn layer_on_wraps_only_its_hooks_and_layers_nest_in_the_order_added() {
    let ran = Arc::new(Ran::default());
    let order = Arc::new(Mutex::new(Vec::new()));
    let named = |name: &'static str| {
        let order = order.clone();
        middleware::from_fn(move |request: Request, next: Next| {
            let order = order.clone();
            async move {
                order
                    .lock()
                    .unwrap()
                    .push(format!("{name} {} in", request.hook()));
                let answer = next.run(request).await;
                order.lock().unwrap().push(format!("{name} out"));
                answer
            }
        })
    };
    let server = server(&ran)
        .layer_on([Hook::ClientAuthenticate], named("outer"))
        .layer_on(
            [Hook::ClientAuthenticate, Hook::ClientAuthorize],
            named("inner"),
        );
    let broker = broker(Transport::Grpc(Version::V3), server).await;
    let client = broker.client("c1");
    assert_eq!(client.connect().await, ConnectOutcome::Allowed);
    assert_eq!(client.subscribe("t/1", 0).await, Access::Allowed);
    assert_eq!(
        *order.lock().unwrap(),
        [
            "outer client.authenticate in",
            "inner client.authenticate in",
            "inner out",
            "outer out",
            "inner client.authorize in",
            "inner out",
        ]
    );
}

#[tokio::test]
async fn a_layer_runs_under_the_call_deadline_and_panic_isolation() {
    let ran = Arc::new(Ran::default());
    let layer = middleware::from_fn(|request: Request, next: Next| async move {
        match request.client_id() {
            "boom" => panic!("layer failed"),
            "stuck" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                next.run(request).await
            }
            _ => next.run(request).await,
        }
    });
    let running = Running::start(
        server(&ran)
            .handler_timeout(Duration::from_millis(200))
            .layer(layer),
    )
    .await;
    let mut client = running.v3().await;
    let login = |id: &str| exhook_runtime::proto::v3::ClientAuthenticateRequest {
        clientinfo: Some(client_v3(id, "someone")),
        result: false,
        meta: None,
    };

    let panicked = client
        .on_client_authenticate(login("boom"))
        .await
        .unwrap_err();
    assert_eq!(panicked.code(), Code::Internal);
    assert!(panicked.message().contains("layer failed"), "{panicked:?}");

    let started = Instant::now();
    let stuck = client
        .on_client_authenticate(login("stuck"))
        .await
        .unwrap_err();
    assert_eq!(stuck.code(), Code::DeadlineExceeded, "{stuck:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // The server goes on serving, through the layer.
    let answer = client.on_client_authenticate(login("fine")).await.unwrap();
    assert_eq!(valued(answer.into_inner()).0, "STOP_AND_RETURN");
}

#[tokio::test]
async fn an_answer_of_the_wrong_kind_fails_the_call_with_its_reason() {
    for transport in [Transport::InProcess, Transport::Grpc(Version::V3)] {
        let ran = Arc::new(Ran::default());
        let wrong = middleware::from_fn(|_: Request, _: Next| async { Ok(Response::Empty) });
        let server = server(&ran).layer_on([Hook::ClientAuthenticate], wrong);
        let broker = broker(transport, server).await;
        assert_eq!(broker.client("c1").connect().await, ConnectOutcome::Denied);
        let warnings = broker.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("a layer answered client.authenticate with Empty")),
            "{transport:?}: {warnings:?}"
        );
    }
}

/// A layer written against tower's traits directly, generic over the
/// service it wraps, as layers from other crates are.
#[derive(Clone)]
struct CountLayer(Arc<std::sync::atomic::AtomicUsize>);

#[derive(Clone)]
struct CountService<S> {
    inner: S,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

impl<S> exhook_runtime::tower::Layer<S> for CountLayer {
    type Service = CountService<S>;

    fn layer(&self, inner: S) -> CountService<S> {
        CountService {
            inner,
            count: self.0.clone(),
        }
    }
}

impl<S> exhook_runtime::tower::Service<Request> for CountService<S>
where
    S: exhook_runtime::tower::Service<Request, Response = Response, Error = Status>,
{
    type Response = Response;
    type Error = Status;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Status>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> S::Future {
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.call(request)
    }
}

#[tokio::test]
async fn a_tower_layer_of_its_own_wraps_calls_too() {
    for transport in [Transport::InProcess, Transport::Grpc(Version::V3)] {
        let ran = Arc::new(Ran::default());
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let server = server(&ran).layer_on([Hook::ClientAuthenticate], CountLayer(count.clone()));
        let broker = broker(transport, server).await;
        for id in ["c1", "c2", "c3"] {
            assert_eq!(broker.client(id).connect().await, ConnectOutcome::Allowed);
        }
        assert_eq!(
            count.load(std::sync::atomic::Ordering::Relaxed),
            3,
            "{transport:?}"
        );
    }
}
