//! `cargo run --example quickstart`, the README's first program, as EMQX
//! meets it: started as a user starts it and called over gRPC with each
//! protocol version.

mod common;

use exhook_app_testing::Process;
use exhook_runtime::proto::v3;

/// How EMQX names a valued answer's type.
fn kind(kind: i32) -> &'static str {
    match kind {
        0 => "CONTINUE",
        1 => "IGNORE",
        2 => "STOP_AND_RETURN",
        _ => "UNKNOWN",
    }
}

/// What the quickstart answers `client`, which speaks protocol generation
/// `$v` (`v1` for EMQX 4.4, `v2` for 5.0 to 5.8, `v3` from 5.9): the
/// messages of each generation differ in type but not in the fields used
/// here.
macro_rules! check_answers {
    ($v:ident, $client:expr) => {{
        use exhook_runtime::proto::$v;
        use $v::valued_response::Value;
        let mut client = $client;
        let version = stringify!($v);

        let loaded = client
            .on_provider_loaded($v::ProviderLoadedRequest::default())
            .await
            .unwrap()
            .into_inner();
        let advertised: Vec<_> = loaded
            .hooks
            .iter()
            .map(|hook| (hook.name.as_str(), hook.topics.clone()))
            .collect();
        // EMQX then sends only messages on `sensors/#`.
        assert_eq!(
            advertised,
            [
                ("client.authenticate", vec![]),
                ("message.publish", vec!["sensors/#".to_owned()])
            ],
            "{version}"
        );

        for (username, password, allowed) in [
            ("demo", "demo", true),
            ("demo", "guess", false),
            ("x", "demo", false),
        ] {
            let request = $v::ClientAuthenticateRequest {
                clientinfo: Some($v::ClientInfo {
                    clientid: "c".into(),
                    username: username.into(),
                    password: password.into(),
                    ..Default::default()
                }),
                result: true,
                ..Default::default()
            };
            let got = client
                .on_client_authenticate(request)
                .await
                .unwrap()
                .into_inner();
            // Allowed or refused, whatever EMQX's own authenticators said.
            assert_eq!(
                (kind(got.r#type), got.value),
                ("STOP_AND_RETURN", Some(Value::BoolResult(allowed))),
                "{version} {username}/{password}"
            );
        }

        let message = |topic: &str, payload: &'static str| $v::Message {
            node: "emqx@127.0.0.1".into(),
            id: "0006153B6E3E2E2AF4420000D5E90001".into(),
            qos: 1,
            from: "demo-1".into(),
            topic: topic.into(),
            payload: payload.into(),
            timestamp: 1_764_000_000_000,
            ..Default::default()
        };
        let publish = |message| $v::MessagePublishRequest {
            message: Some(message),
            ..Default::default()
        };
        let sensor = message("sensors/kitchen", "hot");
        let got = client
            .on_message_publish(publish(sensor.clone()))
            .await
            .unwrap()
            .into_inner();
        let upper_cased = $v::Message {
            payload: "HOT".into(),
            ..sensor
        };
        assert_eq!(
            (kind(got.r#type), got.value),
            ("CONTINUE", Some(Value::Message(upper_cased))),
            "{version}"
        );
        // Another topic, had EMQX sent it anyway, is left alone.
        let got = client
            .on_message_publish(publish(message("chat/general", "hi")))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((kind(got.r#type), got.value), ("IGNORE", None), "{version}");
    }};
}

#[tokio::test]
async fn demo_gets_in_and_sensor_payloads_are_upper_cased() {
    let (process, _) = Process::start(common::example("quickstart")).await;
    check_answers!(v3, process.v3().await);
    check_answers!(v2, common::v2(&process).await);
    check_answers!(v1, common::v1(&process).await);
}

#[tokio::test]
async fn says_what_it_serves_and_stops_on_sigterm() {
    let (process, lines) = Process::start(common::example("quickstart")).await;
    // The line the README shows.
    let serving = lines.last().unwrap();
    assert!(
        serving.starts_with("exhook: serving emqx.exhook v1, v2 and v3 on 127.0.0.1:")
            && serving.ends_with(r#"; hooks: client.authenticate, message.publish ["sensors/#"]"#),
        "{lines:?}"
    );
    // Once it has answered a call, it has its SIGTERM handler.
    process
        .v3()
        .await
        .on_provider_loaded(v3::ProviderLoadedRequest::default())
        .await
        .unwrap();
    process.terminate();
    let (status, _) = process.wait().await;
    assert!(status.success(), "{status}");
}
