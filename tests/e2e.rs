//! End-to-end: providers built with the attributes, served on loopback, and
//! called over real gRPC with clients of each protocol version.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use exhook_runtime::event::{
    AuthorizeAction, BrokerInfo, ClientAuthorizeRequest, ClientSubscribeRequest,
    SessionSubscribedRequest, Uptime,
};
use exhook_runtime::proto::{v1, v2, v3};
use exhook_runtime::*;
use support::*;
use tonic::Code;
use v3::valued_response::Value;

type Log = Arc<Mutex<Vec<String>>>;

fn record(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

// ---- the loaded list -------------------------------------------------------

mod loaded_list {
    use super::*;

    #[on_client_authenticate]
    async fn auth() -> Decision {
        Decision::Ignore
    }
    #[on_client_authorize(topic = "a/#")]
    async fn acl() -> Decision {
        Decision::Ignore
    }
    #[on_session_takenover]
    async fn takenover() {}
    #[on_message_publish(topic = ["sensors/#", "alarms/+"])]
    async fn publish_a() -> Publish {
        Publish::Ignore
    }
    #[on_message_publish(topic = ["alarms/+", "sensors/#", "x"])]
    async fn publish_b() -> Publish {
        Publish::Ignore
    }
    #[on_message_delivered(topic = "d/#")]
    async fn delivered_a() {}
    #[on_message_delivered]
    async fn delivered_b() {}

    pub(super) const PROVIDER: Provider = provider![
        auth,
        acl,
        takenover,
        publish_a,
        publish_b,
        delivered_a,
        delivered_b
    ];

    pub(super) fn provider() -> Provider {
        PROVIDER
    }
}

fn spec(name: &str, topics: &[&str]) -> v3::HookSpec {
    v3::HookSpec {
        name: name.into(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn loaded_list_is_a_compile_time_constant() {
    const HOOKS: LoadedHooks = loaded_list::PROVIDER.hooks();
    let hooks = HOOKS;
    assert_eq!(hooks.len(), 5);
    assert_eq!(
        hooks.topics(Hook::MessagePublish),
        Some(vec!["sensors/#", "alarms/+", "x"])
    );
    // One handler of message.delivered takes every topic, so EMQX must send all.
    assert_eq!(hooks.topics(Hook::MessageDelivered), Some(vec![]));
    // Filters on hooks EMQX does not filter stay local.
    assert_eq!(hooks.topics(Hook::ClientAuthorize), Some(vec![]));
    assert_eq!(hooks.topics(Hook::ClientConnect), None);
}

#[tokio::test]
async fn loaded_list_per_protocol_version() {
    let server = Running::start(Server::new(loaded_list::provider())).await;
    let v5 = vec![
        spec("client.authenticate", &[]),
        spec("client.authorize", &[]),
        spec("session.takenover", &[]),
        spec("message.publish", &["sensors/#", "alarms/+", "x"]),
        spec("message.delivered", &[]),
    ];
    let got = server
        .v3()
        .await
        .on_provider_loaded(loaded_v3("emqxcl"))
        .await
        .unwrap();
    assert_eq!(got.into_inner().hooks, v5);

    let request = v2::ProviderLoadedRequest {
        broker: Some(v2::BrokerInfo {
            version: "5.8.9".into(),
            uptime: 1,
            ..Default::default()
        }),
        meta: Some(v2::RequestMeta {
            cluster_name: "emqxcl".into(),
            ..Default::default()
        }),
    };
    let got = server
        .v2()
        .await
        .on_provider_loaded(request)
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = got.hooks.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "client.authenticate",
            "client.authorize",
            "session.takenover",
            "message.publish",
            "message.delivered"
        ]
    );

    let request = v1::ProviderLoadedRequest {
        broker: Some(v1::BrokerInfo {
            version: "4.4.19".into(),
            uptime: "3 minutes".into(),
            ..Default::default()
        }),
        meta: Some(v1::RequestMeta {
            cluster_name: "emqxcl".into(),
            ..Default::default()
        }),
    };
    let got = server
        .v1()
        .await
        .on_provider_loaded(request)
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = got.hooks.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "client.authenticate",
            "client.check_acl",
            "session.takeovered",
            "message.publish",
            "message.delivered"
        ]
    );
    assert_eq!(got.hooks[3].topics, ["sensors/#", "alarms/+", "x"]);
}

mod narrowing {
    use super::*;

    #[on_provider_loaded]
    async fn per_cluster(
        meta: &RequestMeta,
        broker: &BrokerInfo,
        State(log): State<Log>,
    ) -> Advertise {
        let uptime = match &broker.uptime {
            Uptime::Millis(ms) => format!("{ms} ms"),
            Uptime::Text(text) => text.clone(),
        };
        record(&log, format!("{} {} {uptime}", meta.node, broker.version));
        if meta.cluster_name == "edge" {
            Advertise::Only(
                Hook::advertisable()
                    .filter(|h| h.is_client_hook())
                    .collect(),
            )
        } else {
            Advertise::All
        }
    }
    #[on_client_connected]
    async fn connected() {}
    #[on_session_created]
    async fn created() {}
    #[on_message_acked]
    async fn acked() {}

    pub(super) fn provider() -> Provider {
        provider![per_cluster, connected, created, acked]
    }
}

#[tokio::test]
async fn provider_loaded_handler_narrows_the_list_and_sees_broker_info() {
    let log = Log::default();
    let server = Running::start(Server::new(narrowing::provider()).state(log.clone())).await;
    let mut client = server.v3().await;
    let all = client
        .on_provider_loaded(loaded_v3("emqxcl"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.hooks.len(), 3);
    let edge = client
        .on_provider_loaded(loaded_v3("edge"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edge.hooks, vec![spec("client.connected", &[])]);

    let request = v1::ProviderLoadedRequest {
        broker: Some(v1::BrokerInfo {
            version: "4.4.19".into(),
            uptime: "7 seconds".into(),
            ..Default::default()
        }),
        meta: Some(v1::RequestMeta {
            node: "emqx@old".into(),
            cluster_name: "edge".into(),
            ..Default::default()
        }),
    };
    let old = server
        .v1()
        .await
        .on_provider_loaded(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        old.hooks,
        vec![v1::HookSpec {
            name: "client.connected".into(),
            topics: vec![]
        }]
    );
    assert_eq!(
        take(&log),
        [
            "emqx@127.0.0.1 5.9.0 12345 ms",
            "emqx@127.0.0.1 5.9.0 12345 ms",
            "emqx@old 4.4.19 7 seconds"
        ]
    );
}

// ---- valued hooks ----------------------------------------------------------

mod valued_hooks {
    use super::*;

    fn by_name(name: &str) -> Decision {
        match name {
            "allow" => Decision::Allow,
            "deny" => Decision::Deny,
            "yes" => Decision::Continue(true),
            "no" => Decision::Continue(false),
            _ => Decision::Ignore,
        }
    }

    #[on_client_authenticate]
    async fn authenticate(client: &ClientInfo) -> Decision {
        by_name(&client.username)
    }

    #[on_client_authorize]
    async fn authorize(
        client: &ClientInfo,
        action: AuthorizeAction,
        request: &ClientAuthorizeRequest,
    ) -> Decision {
        match (action, request.topic.as_str()) {
            (AuthorizeAction::Subscribe, "secret/#") => Decision::Deny,
            _ => by_name(&client.username),
        }
    }

    #[on_message_publish]
    async fn publish(mut msg: Message) -> Publish {
        match msg.from.as_str() {
            "upper" => {
                msg.payload = msg.payload.to_ascii_uppercase().into();
                Publish::Continue(msg)
            }
            "final" => {
                msg.topic = "rewritten".into();
                msg.qos = 0;
                Publish::Stop(msg)
            }
            "spam" => Publish::Drop,
            _ => Publish::Ignore,
        }
    }

    pub(super) fn provider() -> Provider {
        provider![authenticate, authorize, publish]
    }
}

#[tokio::test]
async fn authenticate_outcomes_on_every_version() {
    let server = Running::start(Server::new(valued_hooks::provider())).await;
    let cases = [
        ("allow", "STOP_AND_RETURN", Some(Value::BoolResult(true))),
        ("deny", "STOP_AND_RETURN", Some(Value::BoolResult(false))),
        ("yes", "CONTINUE", Some(Value::BoolResult(true))),
        ("no", "CONTINUE", Some(Value::BoolResult(false))),
        ("someone", "IGNORE", None),
    ];
    let (mut c3, mut c2, mut c1) = (server.v3().await, server.v2().await, server.v1().await);
    for (username, kind, value) in cases {
        let request = v3::ClientAuthenticateRequest {
            clientinfo: Some(client_v3("c1", username)),
            result: false,
            meta: Some(meta_v3("emqxcl")),
        };
        let got = valued(
            c3.on_client_authenticate(request)
                .await
                .unwrap()
                .into_inner(),
        );
        assert_eq!(got, (kind, value.clone()), "v3 {username}");

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
                got.r#type,
                got.value
                    .map(|v| matches!(v, v2::valued_response::Value::BoolResult(true)))
            ),
            (
                v3_type(kind),
                value.clone().map(|v| v == Value::BoolResult(true))
            ),
            "v2 {username}"
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
                got.r#type,
                got.value
                    .map(|v| matches!(v, v1::valued_response::Value::BoolResult(true)))
            ),
            (v3_type(kind), value.map(|v| v == Value::BoolResult(true))),
            "v1 {username}"
        );
    }
}

fn v3_type(kind: &str) -> i32 {
    use v3::valued_response::ResponsedType;
    match kind {
        "CONTINUE" => ResponsedType::Continue as i32,
        "IGNORE" => ResponsedType::Ignore as i32,
        _ => ResponsedType::StopAndReturn as i32,
    }
}

#[tokio::test]
async fn authorize_on_v3_and_as_check_acl_on_v1() {
    let server = Running::start(Server::new(valued_hooks::provider())).await;
    let request =
        |username: &str, action: AuthorizeAction, topic: &str| v3::ClientAuthorizeRequest {
            clientinfo: Some(client_v3("c1", username)),
            r#type: action as i32,
            topic: topic.into(),
            result: true,
            meta: Some(meta_v3("emqxcl")),
        };
    let mut c3 = server.v3().await;
    let got = valued(
        c3.on_client_authorize(request("allow", AuthorizeAction::Publish, "t"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::BoolResult(true))));
    let got = valued(
        c3.on_client_authorize(request("allow", AuthorizeAction::Subscribe, "secret/#"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::BoolResult(false))));
    let got = valued(
        c3.on_client_authorize(request("other", AuthorizeAction::Publish, "t"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));

    let mut c1 = server.v1().await;
    let acl = |username: &str, action: i32, topic: &str| v1::ClientCheckAclRequest {
        clientinfo: Some(v1::ClientInfo {
            username: username.into(),
            ..Default::default()
        }),
        r#type: action,
        topic: topic.into(),
        result: true,
        meta: None,
    };
    let got = c1
        .on_client_check_acl(acl("allow", 1, "secret/#"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (got.r#type, got.value),
        (
            v3_type("STOP_AND_RETURN"),
            Some(v1::valued_response::Value::BoolResult(false))
        )
    );
    let got = c1
        .on_client_check_acl(acl("yes", 0, "t"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (got.r#type, got.value),
        (
            v3_type("CONTINUE"),
            Some(v1::valued_response::Value::BoolResult(true))
        )
    );
}

#[tokio::test]
async fn publish_outcomes_echo_the_received_message() {
    let server = Running::start(Server::new(valued_hooks::provider())).await;
    let mut c3 = server.v3().await;
    let publish = |msg: v3::Message| v3::MessagePublishRequest {
        message: Some(msg),
        meta: Some(meta_v3("emqxcl")),
        ..Default::default()
    };

    let sent = message_v3("upper", "t/1", "hello");
    let got = valued(
        c3.on_message_publish(publish(sent.clone()))
            .await
            .unwrap()
            .into_inner(),
    );
    let expected = v3::Message {
        payload: "HELLO".into(),
        ..sent
    };
    assert_eq!(got, ("CONTINUE", Some(Value::Message(expected))));

    let sent = message_v3("final", "t/1", "x");
    let got = valued(
        c3.on_message_publish(publish(sent.clone()))
            .await
            .unwrap()
            .into_inner(),
    );
    let expected = v3::Message {
        topic: "rewritten".into(),
        qos: 0,
        ..sent
    };
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::Message(expected))));

    let sent = message_v3("spam", "t/1", "buy now");
    let got = valued(
        c3.on_message_publish(publish(sent.clone()))
            .await
            .unwrap()
            .into_inner(),
    );
    // A drop answers with the drop flag and what EMQX reads of the message
    // so far, although the handler took the message by value: EMQX logs and
    // traces the dropped message's topic and payload from the answer.
    let dropped = v3::Message {
        qos: sent.qos,
        topic: sent.topic.clone(),
        payload: sent.payload.clone(),
        headers: [("allow_publish".to_owned(), "false".to_owned())].into(),
        ..Default::default()
    };
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::Message(dropped))));

    let got = valued(
        c3.on_message_publish(publish(message_v3("quiet", "t/1", "x")))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));

    // v2 and v1 get the same answers on their own packages.
    let got = server
        .v2()
        .await
        .on_message_publish(v2::MessagePublishRequest {
            message: Some(v2::Message {
                from: "spam".into(),
                topic: "t".into(),
                ..Default::default()
            }),
            meta: None,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(v2::valued_response::Value::Message(message)) = got.value else {
        panic!("no message")
    };
    assert_eq!(
        (
            got.r#type,
            message.topic.as_str(),
            message.headers["allow_publish"].as_str()
        ),
        (v3_type("STOP_AND_RETURN"), "t", "false")
    );
    let got = server
        .v1()
        .await
        .on_message_publish(v1::MessagePublishRequest {
            message: Some(v1::Message {
                from: "upper".into(),
                payload: "abc".into(),
                ..Default::default()
            }),
            meta: None,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(v1::valued_response::Value::Message(message)) = got.value else {
        panic!("no message")
    };
    assert_eq!(
        (got.r#type, &message.payload[..]),
        (v3_type("CONTINUE"), &b"ABC"[..])
    );
}

// ---- chains ----------------------------------------------------------------

mod chains {
    use super::*;

    #[on_client_authenticate]
    async fn first(
        client: &ClientInfo,
        ChainResult(so_far): ChainResult,
        State(log): State<Log>,
    ) -> Decision {
        record(&log, format!("first saw {so_far}"));
        match client.username.as_str() {
            "stop" => Decision::Deny,
            _ => Decision::Continue(false),
        }
    }

    #[on_client_authenticate]
    async fn second(ChainResult(so_far): ChainResult, State(log): State<Log>) -> Decision {
        record(&log, format!("second saw {so_far}"));
        Decision::Ignore
    }

    #[on_client_authenticate]
    async fn third(
        client: &ClientInfo,
        ChainResult(so_far): ChainResult,
        State(log): State<Log>,
    ) -> Decision {
        record(&log, format!("third saw {so_far}"));
        if client.username == "admin" {
            Decision::Continue(true)
        } else {
            Decision::Ignore
        }
    }

    #[on_message_publish(topic = "a/#")]
    async fn move_topic(mut msg: Message, State(log): State<Log>) -> Publish {
        record(&log, format!("move {}", msg.topic));
        msg.topic = msg.topic.replacen("a/", "b/", 1);
        Publish::Continue(msg)
    }

    #[on_message_publish(topic = "a/#")]
    async fn on_a(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("on_a {}", msg.topic));
        Publish::Ignore
    }

    #[on_message_publish(topic = "b/#")]
    async fn on_b(mut msg: Message, State(log): State<Log>) -> Publish {
        record(&log, format!("on_b {}", msg.topic));
        msg.payload = "from b".into();
        Publish::Continue(msg)
    }

    #[on_message_publish]
    async fn last(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("last {} {:?}", msg.topic, msg.payload));
        Publish::Ignore
    }

    pub(super) fn provider() -> Provider {
        provider![first, second, third, move_topic, on_a, on_b, last]
    }
}

#[tokio::test]
async fn compact_publish_answers_carry_only_what_emqx_reads() {
    let server =
        Running::start(Server::new(valued_hooks::provider()).compact_publish_answers(true)).await;
    let mut c3 = server.v3().await;
    let mut publish = async |from: &str| {
        let request = v3::MessagePublishRequest {
            message: Some(message_v3(from, "t/1", "hello")),
            ..Default::default()
        };
        valued(c3.on_message_publish(request).await.unwrap().into_inner())
    };
    let only = |qos: u32, topic: &str, payload: &str| v3::Message {
        qos,
        topic: topic.into(),
        payload: payload.as_bytes().to_vec().into(),
        ..Default::default()
    };
    assert_eq!(
        publish("upper").await,
        ("CONTINUE", Some(Value::Message(only(1, "t/1", "HELLO"))))
    );
    assert_eq!(
        publish("final").await,
        (
            "STOP_AND_RETURN",
            Some(Value::Message(only(0, "rewritten", "hello")))
        )
    );
    let dropped = v3::Message {
        headers: [("allow_publish".to_owned(), "false".to_owned())].into(),
        ..only(1, "t/1", "hello")
    };
    assert_eq!(
        publish("spam").await,
        ("STOP_AND_RETURN", Some(Value::Message(dropped)))
    );
    assert_eq!(publish("quiet").await, ("IGNORE", None));

    // The same on EMQX 4.x's package.
    let got = server
        .v1()
        .await
        .on_message_publish(v1::MessagePublishRequest {
            message: Some(v1::Message {
                from: "upper".into(),
                id: "1".into(),
                node: "emqx@127.0.0.1".into(),
                topic: "t".into(),
                payload: b"x".to_vec().into(),
                qos: 2,
                ..Default::default()
            }),
            meta: None,
        })
        .await
        .unwrap()
        .into_inner();
    let Some(v1::valued_response::Value::Message(message)) = got.value else {
        panic!("no message")
    };
    assert_eq!(
        message,
        v1::Message {
            topic: "t".into(),
            payload: b"X".to_vec().into(),
            qos: 2,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn chains_run_in_order_with_emqx_rules() {
    let log = Log::default();
    let server = Running::start(Server::new(chains::provider()).state(log.clone())).await;
    let mut c3 = server.v3().await;
    let auth = |username: &str, result: bool| v3::ClientAuthenticateRequest {
        clientinfo: Some(client_v3("c", username)),
        result,
        meta: None,
    };

    // Continue(false) then Ignore then Continue(true): the last value wins.
    let got = valued(
        c3.on_client_authenticate(auth("admin", true))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("CONTINUE", Some(Value::BoolResult(true))));
    assert_eq!(
        take(&log),
        ["first saw true", "second saw false", "third saw false"]
    );

    // An ignore does not reset an earlier continue.
    let got = valued(
        c3.on_client_authenticate(auth("user", true))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("CONTINUE", Some(Value::BoolResult(false))));
    take(&log);

    // A stop ends the chain: later handlers are not called.
    let got = valued(
        c3.on_client_authenticate(auth("stop", true))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::BoolResult(false))));
    assert_eq!(take(&log), ["first saw true"]);

    // A rewritten topic is matched again, as EMQX does between servers.
    let request = v3::MessagePublishRequest {
        message: Some(message_v3("c", "a/1", "x")),
        ..Default::default()
    };
    let got = valued(c3.on_message_publish(request).await.unwrap().into_inner());
    let expected = v3::Message {
        topic: "b/1".into(),
        payload: "from b".into(),
        ..message_v3("c", "a/1", "x")
    };
    assert_eq!(got, ("CONTINUE", Some(Value::Message(expected))));
    assert_eq!(take(&log), ["move a/1", "on_b b/1", "last b/1 b\"from b\""]);

    let request = v3::MessagePublishRequest {
        message: Some(message_v3("c", "c/1", "x")),
        ..Default::default()
    };
    let got = valued(c3.on_message_publish(request).await.unwrap().into_inner());
    assert_eq!(got, ("IGNORE", None));
    assert_eq!(take(&log), ["last c/1 b\"x\""]);
}

// ---- neutral answers for hooks nobody handles --------------------------------

mod only_connected {
    use super::*;

    #[on_client_connected]
    async fn connected(client: &ClientInfo, State(log): State<Log>) {
        record(&log, format!("connected {}", client.clientid));
    }

    pub(super) fn provider() -> Provider {
        provider![connected]
    }
}

#[tokio::test]
async fn unregistered_hooks_answer_neutrally_on_every_version() {
    let log = Log::default();
    let server = Running::start(Server::new(only_connected::provider()).state(log.clone())).await;

    let mut c3 = server.v3().await;
    c3.on_client_connected(v3::ClientConnectedRequest {
        clientinfo: Some(client_v3("c3", "u")),
        meta: None,
    })
    .await
    .unwrap();
    let got = valued(
        c3.on_client_authenticate(v3::ClientAuthenticateRequest::default())
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));
    let got = valued(
        c3.on_client_authorize(v3::ClientAuthorizeRequest::default())
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));
    let got = valued(
        c3.on_message_publish(v3::MessagePublishRequest::default())
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));
    c3.on_client_connect(v3::ClientConnectRequest::default())
        .await
        .unwrap();
    c3.on_session_takenover(v3::SessionTakenoverRequest::default())
        .await
        .unwrap();
    c3.on_message_acked(v3::MessageAckedRequest::default())
        .await
        .unwrap();
    c3.on_provider_unloaded(v3::ProviderUnloadedRequest::default())
        .await
        .unwrap();

    let mut c2 = server.v2().await;
    let got = c2
        .on_client_authorize(v2::ClientAuthorizeRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.r#type, got.value), (v3_type("IGNORE"), None));
    c2.on_session_terminated(v2::SessionTerminatedRequest::default())
        .await
        .unwrap();

    let mut c1 = server.v1().await;
    let got = c1
        .on_client_check_acl(v1::ClientCheckAclRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.r#type, got.value), (v3_type("IGNORE"), None));
    c1.on_session_takeovered(v1::SessionTakeoveredRequest::default())
        .await
        .unwrap();
    c1.on_client_connected(v1::ClientConnectedRequest {
        clientinfo: Some(v1::ClientInfo {
            clientid: "c1".into(),
            ..Default::default()
        }),
        meta: None,
    })
    .await
    .unwrap();

    assert_eq!(take(&log), ["connected c3", "connected c1"]);
}

// ---- state -------------------------------------------------------------------

mod counting {
    use super::*;

    #[on_session_created]
    async fn count(State(calls): State<Arc<AtomicUsize>>) {
        calls.fetch_add(1, Ordering::SeqCst);
    }

    #[on_session_resumed]
    async fn also_count(
        State(calls): State<Arc<AtomicUsize>>,
        State(name): State<&'static str>,
    ) -> Result<(), String> {
        calls.fetch_add(10, Ordering::SeqCst);
        if name == "strict" {
            Err("resume refused".into())
        } else {
            Ok(())
        }
    }

    pub(super) fn provider() -> Provider {
        provider![count, also_count]
    }
}

#[tokio::test]
async fn state_is_shared_by_handlers_and_calls() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::new(counting::provider())
        .state(calls.clone())
        .state("lenient");
    let server = Running::start(server).await;
    let (mut c3, mut c1) = (server.v3().await, server.v1().await);
    for _ in 0..3 {
        c3.on_session_created(v3::SessionCreatedRequest::default())
            .await
            .unwrap();
    }
    c1.on_session_created(v1::SessionCreatedRequest::default())
        .await
        .unwrap();
    c3.on_session_resumed(v3::SessionResumedRequest::default())
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 14);
}

#[tokio::test]
async fn missing_state_stops_the_server_at_start() {
    let server = Running::start(Server::new(counting::provider()).state("only a name")).await;
    let error = server.stop().await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::MissingState { .. }), "{text}");
    assert!(
        text.contains("counting::count") && text.contains("AtomicUsize"),
        "{text}"
    );
}

// ---- errors and panics -------------------------------------------------------

mod faults {
    use super::*;

    #[on_client_authenticate]
    async fn flaky(client: &ClientInfo) -> Result<Decision, std::io::Error> {
        match client.username.as_str() {
            "db-down" => Err(std::io::Error::other("user database unreachable")),
            _ => Ok(Decision::Allow),
        }
    }

    #[on_message_publish]
    async fn explode(msg: &Message) -> Publish {
        if msg.topic == "boom" {
            panic!("handler bug on {}", msg.topic);
        }
        Publish::Ignore
    }

    #[on_client_connected]
    async fn refuse() -> Result<(), &'static str> {
        Err("cannot record the connection")
    }

    pub(super) fn provider() -> Provider {
        provider![flaky, explode, refuse]
    }
}

#[tokio::test]
async fn handler_errors_arrive_as_grpc_errors() {
    let server = Running::start(Server::new(faults::provider())).await;
    let mut c3 = server.v3().await;
    let auth = |username: &str| v3::ClientAuthenticateRequest {
        clientinfo: Some(client_v3("c", username)),
        ..Default::default()
    };
    let status = c3
        .on_client_authenticate(auth("db-down"))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unknown, "user database unreachable")
    );
    let status = c3
        .on_client_connected(v3::ClientConnectedRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::Unknown, "cannot record the connection")
    );
    let status = server
        .v1()
        .await
        .on_client_connected(v1::ClientConnectedRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unknown);
    // The server goes on serving.
    let got = valued(
        c3.on_client_authenticate(auth("fine"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::BoolResult(true))));
}

#[tokio::test]
async fn a_panicking_handler_fails_only_that_call() {
    let server = Running::start(Server::new(faults::provider())).await;
    let mut c3 = server.v3().await;
    let publish = |topic: &str| v3::MessagePublishRequest {
        message: Some(message_v3("c", topic, "x")),
        ..Default::default()
    };
    let status = c3.on_message_publish(publish("boom")).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert!(
        status.message().contains("handler bug on boom"),
        "{}",
        status.message()
    );
    // Same connection, next call: served.
    let got = valued(
        c3.on_message_publish(publish("calm"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));
}

// ---- topics ------------------------------------------------------------------

mod topics {
    use super::*;

    #[on_message_publish(topic = "sensors/#")]
    async fn all_sensors(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("all_sensors {}", msg.topic));
        Publish::Ignore
    }
    #[on_message_publish(topic = ["sensors/+/temp", "weather/+/temp"])]
    async fn temperatures(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("temperatures {}", msg.topic));
        Publish::Ignore
    }
    #[on_message_publish(topic = "#")]
    async fn everything(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("everything {}", msg.topic));
        Publish::Ignore
    }
    #[on_message_publish]
    async fn unfiltered(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("unfiltered {}", msg.topic));
        Publish::Ignore
    }
    #[on_client_authorize(topic = "private/+")]
    async fn private(request: &ClientAuthorizeRequest, State(log): State<Log>) -> Decision {
        record(&log, format!("private {}", request.topic));
        Decision::Deny
    }
    #[on_session_subscribed(topic = "jobs/#")]
    async fn jobs(request: &SessionSubscribedRequest, State(log): State<Log>) {
        record(&log, format!("jobs {}", request.topic));
    }
    #[on_client_subscribe(topic = "jobs/#")]
    async fn jobs_subscribe(request: &ClientSubscribeRequest, State(log): State<Log>) {
        let names: Vec<_> = request
            .topic_filters
            .iter()
            .map(|f| format!("{}@{}", f.name, f.subopts.unwrap_or_default().qos))
            .collect();
        record(&log, format!("jobs_subscribe {}", names.join(",")));
    }

    pub(super) fn provider() -> Provider {
        provider![
            all_sensors,
            temperatures,
            everything,
            unfiltered,
            private,
            jobs,
            jobs_subscribe
        ]
    }
}

#[tokio::test]
async fn each_handler_sees_only_its_topics() {
    let log = Log::default();
    let server = Running::start(Server::new(topics::provider()).state(log.clone())).await;
    let mut c3 = server.v3().await;
    let mut publish = async |topic: &str| {
        let request = v3::MessagePublishRequest {
            message: Some(message_v3("c", topic, "x")),
            ..Default::default()
        };
        c3.on_message_publish(request).await.unwrap();
        take(&log)
    };
    assert_eq!(
        publish("sensors/kitchen/temp").await,
        [
            "all_sensors sensors/kitchen/temp",
            "temperatures sensors/kitchen/temp",
            "everything sensors/kitchen/temp",
            "unfiltered sensors/kitchen/temp"
        ]
    );
    assert_eq!(
        publish("sensors").await,
        [
            "all_sensors sensors",
            "everything sensors",
            "unfiltered sensors"
        ]
    );
    assert_eq!(
        publish("weather//temp").await,
        [
            "temperatures weather//temp",
            "everything weather//temp",
            "unfiltered weather//temp"
        ]
    );
    assert_eq!(
        publish("Sensors/a").await,
        ["everything Sensors/a", "unfiltered Sensors/a"]
    );
    // `$` topics never match a leading wildcard.
    assert_eq!(publish("$SYS/brokers").await, ["unfiltered $SYS/brokers"]);

    let authorize = |topic: &str| v3::ClientAuthorizeRequest {
        topic: topic.into(),
        ..Default::default()
    };
    let got = valued(
        c3.on_client_authorize(authorize("private/x"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("STOP_AND_RETURN", Some(Value::BoolResult(false))));
    let got = valued(
        c3.on_client_authorize(authorize("private/x/y"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(got, ("IGNORE", None));
    assert_eq!(take(&log), ["private private/x"]);

    for topic in [
        "$share/workers/jobs/+",
        "$queue/jobs/a",
        "jobs",
        "other/jobs",
    ] {
        let request = v3::SessionSubscribedRequest {
            topic: topic.into(),
            ..Default::default()
        };
        c3.on_session_subscribed(request).await.unwrap();
    }
    assert_eq!(
        take(&log),
        [
            "jobs $share/workers/jobs/+",
            "jobs $queue/jobs/a",
            "jobs jobs"
        ]
    );

    // EMQX 4.x sends the share group apart and the QoS beside the name.
    let mut c1 = server.v1().await;
    c1.on_session_subscribed(v1::SessionSubscribedRequest {
        topic: "jobs/1".into(),
        subopts: Some(v1::SubOpts {
            qos: 1,
            share: "g".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    c1.on_client_subscribe(v1::ClientSubscribeRequest {
        topic_filters: vec![
            v1::TopicFilter {
                name: "x/y".into(),
                qos: 0,
            },
            v1::TopicFilter {
                name: "jobs/2".into(),
                qos: 2,
            },
        ],
        ..Default::default()
    })
    .await
    .unwrap();
    c1.on_client_subscribe(v1::ClientSubscribeRequest {
        topic_filters: vec![v1::TopicFilter {
            name: "x/y".into(),
            qos: 0,
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        take(&log),
        ["jobs $share/g/jobs/1", "jobs_subscribe x/y@0,jobs/2@2"]
    );
}

// ---- malformed input ---------------------------------------------------------

#[tokio::test]
async fn malformed_requests_get_an_error_and_the_server_keeps_serving() {
    let server = Running::start(Server::new(valued_hooks::provider())).await;
    let channel = server.channel().await;
    let mut raw = tonic::client::Grpc::new(channel.clone());
    for (path, body) in [
        (
            "/emqx.exhook.v3.HookProvider/OnClientAuthenticate",
            vec![0x0a, 0xff, 0xff],
        ),
        (
            "/emqx.exhook.v2.HookProvider/OnMessagePublish",
            vec![0xff; 16],
        ),
        // v1 uptime is text; an integer there does not decode.
        (
            "/emqx.exhook.v1.HookProvider/OnProviderLoaded",
            vec![0x0a, 0x02, 0x18, 0x05],
        ),
    ] {
        raw.ready().await.unwrap();
        let result: Result<tonic::Response<v3::EmptySuccess>, _> = raw
            .unary(
                tonic::Request::new(RawBody(body)),
                http::uri::PathAndQuery::from_static(path),
                RawCodec,
            )
            .await;
        let status = result.unwrap_err();
        assert_eq!(status.code(), Code::Internal, "{path}: {status:?}");
    }
    raw.ready().await.unwrap();
    let result: Result<tonic::Response<v3::EmptySuccess>, _> = raw
        .unary(
            tonic::Request::new(RawBody(vec![])),
            http::uri::PathAndQuery::from_static("/emqx.exhook.v3.HookProvider/OnSomethingElse"),
            RawCodec,
        )
        .await;
    assert_eq!(result.unwrap_err().code(), Code::Unimplemented);

    let got = server
        .v3()
        .await
        .on_client_authenticate(v3::ClientAuthenticateRequest {
            clientinfo: Some(client_v3("c", "allow")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        valued(got.into_inner()),
        ("STOP_AND_RETURN", Some(Value::BoolResult(true)))
    );
}

/// Bytes sent as they are, to put invalid protobuf on the wire.
struct RawBody(Vec<u8>);

#[derive(Clone, Copy)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = RawBody;
    type Decode = v3::EmptySuccess;
    type Encoder = RawEncoder;
    type Decoder = <tonic_prost::ProstCodec<v3::EmptySuccess, v3::EmptySuccess> as tonic::codec::Codec>::Decoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<
            v3::EmptySuccess,
            v3::EmptySuccess,
        >::default())
    }
}

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = RawBody;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: RawBody,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item.0);
        Ok(())
    }
}

mod configured {
    use super::*;

    #[on_message_publish(topic = "sensors/#")]
    pub(super) async fn store(msg: &Message, State(log): State<Log>) -> Publish {
        record(&log, format!("store {}", msg.topic));
        Publish::Ignore
    }

    #[on_message_acked]
    pub(super) async fn acked() {}
}

#[tokio::test]
async fn filters_given_at_run_time_replace_the_attribute_s() {
    let log = Log::default();
    let filters = ["alarms/+", "sensors/kitchen/#"].map(|f| TopicFilter::new(f).unwrap());
    let server = Running::start(
        Server::new(provider![configured::store])
            .state(log.clone())
            .topics::<configured::store>(filters),
    )
    .await;
    let mut c3 = server.v3().await;
    let loaded = c3
        .on_provider_loaded(loaded_v3("c"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        loaded.hooks,
        [spec("message.publish", &["alarms/+", "sensors/kitchen/#"])]
    );

    for topic in [
        "alarms/fire",
        "sensors/kitchen",
        "sensors/hall/temp",
        "alarms/a/b",
    ] {
        let request = v3::MessagePublishRequest {
            message: Some(message_v3("c", topic, "x")),
            ..Default::default()
        };
        c3.on_message_publish(request).await.unwrap();
    }
    assert_eq!(take(&log), ["store alarms/fire", "store sensors/kitchen"]);
}

#[tokio::test]
async fn run_time_filters_for_an_unlisted_handler_stop_the_server_at_start() {
    let server = Running::start(
        Server::new(provider![configured::acked])
            .state(Log::default())
            .topics::<configured::store>([TopicFilter::new("a").unwrap()]),
    )
    .await;
    let error = server.stop().await.unwrap_err();
    assert!(matches!(error, Error::UnlistedHandler { .. }), "{error}");
    assert!(error.to_string().contains("configured::store"), "{error}");
}

mod answers {
    use exhook_runtime::prelude::*;
    use exhook_runtime::testing::{
        Answered, ConnectOutcome, ProviderAnswer, TestBroker, Transport, Valued,
    };

    #[on_client_authenticate]
    async fn ignore_all() -> Decision {
        Decision::Ignore
    }

    #[on_client_authenticate]
    async fn staff_only(client: &ClientInfo) -> Decision {
        match client.username.as_str() {
            "staff" => Decision::Allow,
            "visitor" => Decision::Continue(false),
            _ => Decision::Ignore,
        }
    }

    #[on_message_publish]
    async fn drop_all() -> Publish {
        Publish::Drop
    }

    /// The kit records each provider's own answer: an ignored login and an
    /// allowed one both connect (authn_result defaults to true), but their
    /// answers differ.
    #[tokio::test]
    async fn the_test_kit_shows_each_providers_answer_in_the_chain() {
        for transport in [
            Transport::InProcess,
            Transport::Grpc(Version::V1),
            Transport::Grpc(Version::V3),
        ] {
            let broker = TestBroker::builder()
                .transport(transport)
                .provider(Server::new(provider![ignore_all]))
                .provider(Server::new(provider![staff_only, drop_all]))
                .start()
                .await
                .unwrap();
            let broker = &broker;
            let answers = move |hook| {
                broker
                    .take_answers()
                    .into_iter()
                    .filter(|answer: &ProviderAnswer| answer.hook == hook)
                    .map(|answer| (answer.provider, answer.answer))
                    .collect::<Vec<_>>()
            };
            let connect = move |user: &'static str| async move {
                let outcome = broker.client(user).username(user).connect().await;
                (outcome, answers(Hook::ClientAuthenticate))
            };
            assert_eq!(
                connect("guest").await,
                (
                    ConnectOutcome::Allowed,
                    vec![(0, Answered::Ignore), (1, Answered::Ignore)]
                ),
                "{transport:?}"
            );
            assert_eq!(
                connect("staff").await,
                (
                    ConnectOutcome::Allowed,
                    vec![
                        (0, Answered::Ignore),
                        (1, Answered::StopAndReturn(Valued::Bool(true)))
                    ]
                ),
                "{transport:?}"
            );
            assert_eq!(
                connect("visitor").await,
                (
                    ConnectOutcome::Denied,
                    vec![
                        (0, Answered::Ignore),
                        (1, Answered::Continue(Valued::Bool(false)))
                    ]
                ),
                "{transport:?}"
            );
            let client = broker.client("staff").username("staff");
            client.connect().await;
            broker.take_answers();
            client.publish("t/1", "x").await;
            let publish = answers(Hook::MessagePublish);
            match &publish[..] {
                [(1, Answered::StopAndReturn(Valued::Message(message)))] => {
                    assert_eq!(message.headers["allow_publish"], "false");
                }
                other => panic!("{transport:?}: {other:?}"),
            }
        }
    }
}

// ---- the user's function, as written ---------------------------------------

mod attributes_on_the_function {
    use super::*;
    use exhook_runtime::testing::{TestBroker, Transport};

    /// Below the hook attribute, `#[tracing::instrument]` sees the `async
    /// fn` as written, so its span covers the whole call, across awaits.
    #[on_client_connected]
    #[tracing::instrument(skip_all)]
    async fn instrumented(client: &ClientInfo, log: State<Log>) {
        tokio::task::yield_now().await;
        let span = tracing::Span::current();
        let name = span.metadata().map_or("none", |metadata| metadata.name());
        record(&log, format!("{} in span {name}", client.clientid));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn instrument_spans_the_whole_handler() {
        // The runtime's task, the handler's and this test share the thread,
        // and so this subscriber.
        let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
        let log = Log::default();
        let broker = TestBroker::builder()
            .transport(Transport::InProcess)
            .provider(Server::new(provider![instrumented]).state(log.clone()))
            .start()
            .await
            .unwrap();
        broker.client("c1").connect().await;
        assert_eq!(take(&log), ["c1 in span instrumented"]);
    }
}
