//! Each protocol generation decoded as EMQX sends it, over real gRPC: the
//! subscription layout of EMQX 5.0–5.3 on `v2`, and a dropped message
//! answered alike whichever way its handler took it.

mod support;

use std::sync::{Arc, Mutex};

use exhook_runtime::event::{ClientSubscribeRequest, SessionSubscribedRequest};
use exhook_runtime::proto::v1;
use exhook_runtime::testing::{PublishOutcome, TestBroker, Transport};
use exhook_runtime::*;
use support::*;

type Seen = Arc<Mutex<Vec<String>>>;

#[on_client_subscribe]
async fn subscribed(request: &ClientSubscribeRequest, State(seen): State<Seen>) {
    for filter in &request.topic_filters {
        let qos = filter.subopts.map(|opts| opts.qos);
        seen.lock()
            .unwrap()
            .push(format!("{} {qos:?}", filter.name));
    }
}

#[on_session_subscribed]
async fn session_subscribed(
    request: &SessionSubscribedRequest,
    opts: &exhook_runtime::event::SubOpts,
    State(seen): State<Seen>,
) {
    seen.lock()
        .unwrap()
        .push(format!("{} qos {}", request.topic, opts.qos));
}

/// EMQX 5.0–5.3 send `TopicFilter.qos` and `SubOpts.share` in field 2 on
/// `emqx.exhook.v2`, as EMQX 4 does on v1 (5.4+ reserve field 2). The v1
/// messages have exactly that layout, so they stand in for those senders.
#[tokio::test]
async fn v2_subscriptions_from_emqx_5_0_to_5_3_keep_qos_and_share_group() {
    let seen = Seen::default();
    let server =
        Running::start(Server::new(provider![subscribed, session_subscribed]).state(seen.clone()))
            .await;
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    let path = |rpc: &str| {
        http::uri::PathAndQuery::try_from(format!("/emqx.exhook.v2.HookProvider/{rpc}")).unwrap()
    };

    let legacy = v1::ClientSubscribeRequest {
        topic_filters: vec![
            v1::TopicFilter {
                name: "a/b".into(),
                qos: 2,
            },
            v1::TopicFilter {
                name: "$share/g/c".into(),
                qos: 1,
            },
        ],
        ..Default::default()
    };
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(legacy),
        path("OnClientSubscribe"),
        tonic_prost::ProstCodec::<v1::ClientSubscribeRequest, v1::EmptySuccess>::default(),
    )
    .await
    .unwrap();

    let legacy = v1::SessionSubscribedRequest {
        topic: "jobs/+".into(),
        subopts: Some(v1::SubOpts {
            qos: 1,
            share: "workers".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(legacy),
        path("OnSessionSubscribed"),
        tonic_prost::ProstCodec::<v1::SessionSubscribedRequest, v1::EmptySuccess>::default(),
    )
    .await
    .unwrap();

    // And a 5.4+ sender on the same path: QoS in `subopts`.
    let current = ClientSubscribeRequest {
        topic_filters: vec![exhook_runtime::event::SubscriptionFilter {
            name: "d".into(),
            subopts: Some(exhook_runtime::event::SubOpts {
                qos: 1,
                ..Default::default()
            }),
        }],
        ..Default::default()
    };
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(current),
        path("OnClientSubscribe"),
        tonic_prost::ProstCodec::<ClientSubscribeRequest, v1::EmptySuccess>::default(),
    )
    .await
    .unwrap();

    assert_eq!(
        *seen.lock().unwrap(),
        [
            "a/b Some(2)",
            "$share/g/c Some(1)",
            "$share/workers/jobs/+ qos 1",
            "d Some(1)"
        ]
    );
    server.stop().await.unwrap();
}

#[on_message_publish(topic = "spam/#")]
async fn drop_owned(msg: Message) -> Publish {
    let _ = msg;
    Publish::Drop
}

#[on_message_publish(topic = "spam/#")]
async fn drop_borrowed(msg: &Message) -> Publish {
    let _ = msg;
    Publish::Drop
}

#[on_message_publish(topic = "spam/#")]
async fn rewrite(mut msg: Message) -> Publish {
    msg.payload = "rewritten".into();
    Publish::Continue(msg)
}

/// `Publish::Drop` answers alike whether the handler took the message by
/// value or by reference, alone or after another handler: EMQX sees the
/// dropped message's topic and payload, as they were when it was dropped.
#[tokio::test]
async fn a_drop_keeps_topic_and_payload_whatever_the_signature() {
    type MakeServer = fn() -> Server;
    let providers: [(MakeServer, &str); 4] = [
        (|| Server::new(provider![drop_owned]), "sell"),
        (|| Server::new(provider![drop_borrowed]), "sell"),
        (|| Server::new(provider![rewrite, drop_owned]), "rewritten"),
        (
            || Server::new(provider![rewrite, drop_borrowed]),
            "rewritten",
        ),
    ];
    for (server, payload) in providers {
        for transport in [
            Transport::InProcess,
            Transport::Grpc(Version::V1),
            Transport::Grpc(Version::V3),
        ] {
            let broker = TestBroker::builder()
                .transport(transport)
                .provider(server())
                .start()
                .await
                .unwrap();
            let client = broker.client("c1");
            client.connect().await;
            let outcome = client.publish("spam/1", "sell").await;
            let PublishOutcome::Dropped(message) = outcome else {
                panic!("{transport:?}: not dropped: {outcome:?}");
            };
            assert_eq!(
                (message.topic.as_str(), &message.payload[..]),
                ("spam/1", payload.as_bytes()),
                "{transport:?}"
            );
            broker.shutdown().await;
        }
    }
}
