// The quickstart's handlers, tested without a broker.
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

use exhook_runtime::testing::{ConnectOutcome, TestBroker, Transport};
use exhook_runtime::{Server, Version, provider};

#[tokio::test]
async fn demo_gets_in_and_sensor_payloads_are_upper_cased() {
    for transport in [
        Transport::InProcess,
        Transport::Grpc(Version::V3),
        Transport::Grpc(Version::V1),
    ] {
        let broker = TestBroker::builder()
            .transport(transport)
            .provider(Server::new(provider![quickstart::auth, quickstart::shout]))
            .start()
            .await
            .unwrap();

        let demo = broker.client("demo-1").username("demo").password("demo");
        assert_eq!(demo.connect().await, ConnectOutcome::Allowed);
        let intruder = broker.client("x").username("demo").password("guess");
        assert_eq!(intruder.connect().await, ConnectOutcome::Denied);

        demo.subscribe("#", 0).await;
        let sensor = demo.publish("sensors/kitchen", "hot").await;
        assert_eq!(sensor.message().unwrap().payload, "HOT");
        // Other topics are not even sent to the provider.
        let chat = demo.publish("chat/general", "hi").await;
        assert_eq!(chat.message().unwrap().payload, "hi");
    }
}

#[tokio::test]
async fn handlers_are_plain_functions() {
    let msg = exhook_runtime::Message {
        payload: "abc".into(),
        ..Default::default()
    };
    let exhook_runtime::Publish::Continue(out) = quickstart::shout(msg).await else {
        panic!("shout always continues");
    };
    assert_eq!(out.payload, "ABC");
}
