//! `cargo run --example emqx_demo` against the behaviours EMQX's own ExHook
//! test suite checks of its demo provider: the program started as a user
//! starts it, called over gRPC on all three versions.

mod common;

use exhook_app_testing::{Process, client_v3, loaded_v3, message_v3, meta_v3, valued};
use exhook_runtime::proto::{v1, v2, v3};
use v3::valued_response::Value;

const ALL_HOOKS: [&str; 19] = [
    "client.connect",
    "client.connack",
    "client.connected",
    "client.disconnected",
    "client.authenticate",
    "client.authorize",
    "client.subscribe",
    "client.unsubscribe",
    "session.created",
    "session.subscribed",
    "session.unsubscribed",
    "session.resumed",
    "session.discarded",
    "session.takenover",
    "session.terminated",
    "message.publish",
    "message.delivered",
    "message.dropped",
    "message.acked",
];

async fn demo() -> Process {
    Process::start(common::example("emqx_demo")).await.0
}

fn names(hooks: &[v3::HookSpec]) -> Vec<&str> {
    hooks.iter().map(|h| h.name.as_str()).collect()
}

#[tokio::test]
async fn advertises_all_hooks_or_only_client_hooks_by_cluster_name() {
    let server = demo().await;
    let mut c3 = server.v3().await;
    let all = c3
        .on_provider_loaded(loaded_v3("emqxcl"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&all.hooks), ALL_HOOKS);
    assert!(all.hooks.iter().all(|h| h.topics.is_empty()));
    let reduced = c3
        .on_provider_loaded(loaded_v3("test_emqx_cluster"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&reduced.hooks), ALL_HOOKS[..8]);

    let mut c2 = common::v2(&server).await;
    let request = v2::ProviderLoadedRequest {
        broker: Some(v2::BrokerInfo {
            version: "5.8.9".into(),
            ..Default::default()
        }),
        meta: Some(v2::RequestMeta {
            cluster_name: "test_emqx_cluster".into(),
            ..Default::default()
        }),
    };
    let reduced = c2.on_provider_loaded(request).await.unwrap().into_inner();
    let reduced: Vec<_> = reduced.hooks.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(reduced, ALL_HOOKS[..8]);

    let mut c1 = common::v1(&server).await;
    let request = v1::ProviderLoadedRequest {
        broker: Some(v1::BrokerInfo {
            version: "4.4.19".into(),
            uptime: "1 seconds".into(),
            ..Default::default()
        }),
        meta: Some(v1::RequestMeta {
            cluster_name: "emqxcl".into(),
            ..Default::default()
        }),
    };
    let all = c1.on_provider_loaded(request).await.unwrap().into_inner();
    let v1_names: Vec<_> = all.hooks.iter().map(|h| h.name.as_str()).collect();
    let expected: Vec<_> = ALL_HOOKS
        .iter()
        .map(|name| match *name {
            "client.authorize" => "client.check_acl",
            "session.takenover" => "session.takeovered",
            other => other,
        })
        .collect();
    assert_eq!(v1_names, expected);
}

fn bool_answer(username: &str) -> (&'static str, Option<Value>) {
    match username {
        "baduser" => ("STOP_AND_RETURN", Some(Value::BoolResult(false))),
        "gooduser" => ("STOP_AND_RETURN", Some(Value::BoolResult(true))),
        "normaluser" => ("CONTINUE", Some(Value::BoolResult(true))),
        _ => ("IGNORE", None),
    }
}

fn kind_of(kind: i32) -> &'static str {
    match kind {
        0 => "CONTINUE",
        1 => "IGNORE",
        2 => "STOP_AND_RETURN",
        _ => "UNKNOWN",
    }
}

#[tokio::test]
async fn authenticate_and_authorize_by_username_on_every_version() {
    let server = demo().await;
    let (mut c3, mut c2, mut c1) = (
        server.v3().await,
        common::v2(&server).await,
        common::v1(&server).await,
    );
    for username in ["baduser", "gooduser", "normaluser", "someone", ""] {
        let expected = bool_answer(username);
        let request = v3::ClientAuthenticateRequest {
            clientinfo: Some(client_v3("c", username)),
            result: true,
            meta: Some(meta_v3("emqxcl")),
        };
        assert_eq!(
            valued(
                c3.on_client_authenticate(request)
                    .await
                    .unwrap()
                    .into_inner()
            ),
            expected,
            "v3 authenticate {username}"
        );
        let request = v3::ClientAuthorizeRequest {
            clientinfo: Some(client_v3("c", username)),
            r#type: 1,
            topic: "t/#".into(),
            result: true,
            meta: None,
        };
        assert_eq!(
            valued(c3.on_client_authorize(request).await.unwrap().into_inner()),
            expected,
            "v3 authorize {username}"
        );

        let expected_bool = expected.1.clone().map(|v| v == Value::BoolResult(true));
        let request = v2::ClientAuthenticateRequest {
            clientinfo: Some(v2::ClientInfo {
                username: username.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = c2
            .on_client_authenticate(request)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (
                kind_of(got.r#type),
                got.value
                    .map(|v| v == v2::valued_response::Value::BoolResult(true))
            ),
            (expected.0, expected_bool),
            "v2 authenticate {username}"
        );
        let request = v2::ClientAuthorizeRequest {
            clientinfo: Some(v2::ClientInfo {
                username: username.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = c2.on_client_authorize(request).await.unwrap().into_inner();
        assert_eq!(
            (
                kind_of(got.r#type),
                got.value
                    .map(|v| v == v2::valued_response::Value::BoolResult(true))
            ),
            (expected.0, expected_bool),
            "v2 authorize {username}"
        );

        let request = v1::ClientAuthenticateRequest {
            clientinfo: Some(v1::ClientInfo {
                username: username.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = c1
            .on_client_authenticate(request)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (
                kind_of(got.r#type),
                got.value
                    .map(|v| v == v1::valued_response::Value::BoolResult(true))
            ),
            (expected.0, expected_bool),
            "v1 authenticate {username}"
        );
        let request = v1::ClientCheckAclRequest {
            clientinfo: Some(v1::ClientInfo {
                username: username.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = c1.on_client_check_acl(request).await.unwrap().into_inner();
        assert_eq!(
            (
                kind_of(got.r#type),
                got.value
                    .map(|v| v == v1::valued_response::Value::BoolResult(true))
            ),
            (expected.0, expected_bool),
            "v1 check_acl {username}"
        );
    }
}

#[tokio::test]
async fn publish_rewrite_and_drop_by_sender() {
    let server = demo().await;
    let mut c3 = server.v3().await;
    let publish = |from: &str| v3::MessagePublishRequest {
        message: Some(message_v3(from, "t/1", "hello")),
        meta: Some(meta_v3("emqxcl")),
        props: vec![v3::Property {
            name: "Message-Expiry-Interval".into(),
            value: "300".into(),
        }],
        user_props: vec![v3::Property {
            name: "k1".into(),
            value: "v1".into(),
        }],
    };

    let got = valued(
        c3.on_message_publish(publish("baduser"))
            .await
            .unwrap()
            .into_inner(),
    );
    let mut dropped = message_v3("baduser", "", "");
    dropped.qos = 0;
    dropped
        .headers
        .insert("allow_publish".into(), "false".into());
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::Message(dropped))));

    let got = valued(
        c3.on_message_publish(publish("gooduser"))
            .await
            .unwrap()
            .into_inner(),
    );
    let mut rewritten = message_v3("gooduser", "gooduser", "gooduser");
    rewritten
        .headers
        .insert("allow_publish".into(), "true".into());
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::Message(rewritten))));

    let got = valued(
        c3.on_message_publish(publish("normaluser"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));

    let mut c1 = common::v1(&server).await;
    let got = c1
        .on_message_publish(v1::MessagePublishRequest {
            message: Some(v1::Message {
                from: "gooduser".into(),
                topic: "t".into(),
                qos: 1,
                ..Default::default()
            }),
            meta: None,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(v1::valued_response::Value::Message(message)) = got.value else {
        panic!("no message in {got:?}")
    };
    assert_eq!(
        (
            kind_of(got.r#type),
            message.topic.as_str(),
            &message.payload[..],
            message.qos
        ),
        ("STOP_AND_RETURN", "gooduser", &b"gooduser"[..], 1)
    );
}

#[tokio::test]
async fn every_other_hook_answers_success_on_every_version() {
    let server = demo().await;
    let mut c3 = server.v3().await;
    let info = || Some(client_v3("c", "u"));
    c3.on_client_connect(v3::ClientConnectRequest {
        conninfo: Some(v3::ConnInfo {
            clientid: "c".into(),
            sockport: 1883,
            ..Default::default()
        }),
        props: vec![v3::Property {
            name: "Session-Expiry-Interval".into(),
            value: "100".into(),
        }],
        meta: None,
        user_props: vec![v3::Property {
            name: "k1".into(),
            value: "v1".into(),
        }],
    })
    .await
    .unwrap();
    c3.on_client_connack(v3::ClientConnackRequest {
        result_code: "success".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    c3.on_client_connected(v3::ClientConnectedRequest {
        clientinfo: info(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_client_disconnected(v3::ClientDisconnectedRequest {
        clientinfo: info(),
        reason: "normal".into(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_client_subscribe(v3::ClientSubscribeRequest {
        clientinfo: info(),
        topic_filters: vec![v3::TopicFilter {
            name: "t/#".into(),
            subopts: Some(v3::SubOpts {
                qos: 1,
                ..Default::default()
            }),
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    c3.on_client_unsubscribe(v3::ClientUnsubscribeRequest {
        clientinfo: info(),
        ..Default::default()
    })
    .await
    .unwrap();
    c3.on_session_created(v3::SessionCreatedRequest {
        clientinfo: info(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_session_subscribed(v3::SessionSubscribedRequest {
        clientinfo: info(),
        topic: "t/#".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    c3.on_session_unsubscribed(v3::SessionUnsubscribedRequest {
        clientinfo: info(),
        topic: "t/#".into(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_session_resumed(v3::SessionResumedRequest {
        clientinfo: info(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_session_discarded(v3::SessionDiscardedRequest {
        clientinfo: info(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_session_takenover(v3::SessionTakenoverRequest {
        clientinfo: info(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_session_terminated(v3::SessionTerminatedRequest {
        clientinfo: info(),
        reason: "normal".into(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_message_delivered(v3::MessageDeliveredRequest {
        clientinfo: info(),
        message: Some(message_v3("c", "t/1", "x")),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_message_dropped(v3::MessageDroppedRequest {
        message: Some(message_v3("c", "t/1", "x")),
        reason: "no_subscribers".into(),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_message_acked(v3::MessageAckedRequest {
        clientinfo: info(),
        message: Some(message_v3("c", "t/1", "x")),
        meta: None,
    })
    .await
    .unwrap();
    c3.on_provider_unloaded(v3::ProviderUnloadedRequest {
        meta: Some(meta_v3("emqxcl")),
    })
    .await
    .unwrap();

    let mut c2 = common::v2(&server).await;
    c2.on_session_takenover(v2::SessionTakenoverRequest::default())
        .await
        .unwrap();
    c2.on_client_subscribe(v2::ClientSubscribeRequest::default())
        .await
        .unwrap();
    let mut c1 = common::v1(&server).await;
    c1.on_session_takeovered(v1::SessionTakeoveredRequest::default())
        .await
        .unwrap();
    c1.on_client_subscribe(v1::ClientSubscribeRequest {
        topic_filters: vec![v1::TopicFilter {
            name: "t".into(),
            qos: 2,
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    c1.on_session_subscribed(v1::SessionSubscribedRequest {
        topic: "t".into(),
        subopts: Some(v1::SubOpts {
            share: "g".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_calls_over_eight_connections() {
    let server = demo().await;
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(server.v3().await);
    }
    let users = ["baduser", "gooduser", "normaluser", "someone"];
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..2000 {
        let mut client = clients[i % clients.len()].clone();
        let username = users[i % users.len()];
        calls.spawn(async move {
            let request = v3::ClientAuthenticateRequest {
                clientinfo: Some(client_v3(&format!("c{i}"), username)),
                result: true,
                meta: None,
            };
            let got = valued(
                client
                    .on_client_authenticate(request)
                    .await
                    .expect("call")
                    .into_inner(),
            );
            (username, got)
        });
    }
    let mut answered = 0;
    while let Some(result) = calls.join_next().await {
        let (username, got) = result.unwrap();
        assert_eq!(got, bool_answer(username), "{username}");
        answered += 1;
    }
    assert_eq!(answered, 2000);
}
