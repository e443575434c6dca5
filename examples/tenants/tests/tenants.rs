//! The gateway as EMQX drives it, in process and over gRPC v1 and v3.

use std::sync::Arc;
use std::time::Duration;

use exhook_runtime::Version;
use exhook_runtime::testing::{Access, ConnectOutcome, PublishOutcome, TestBroker, Transport};
use tenants::{RateLimit, Usage};

const TRANSPORTS: [Transport; 3] = [
    Transport::InProcess,
    Transport::Grpc(Version::V1),
    Transport::Grpc(Version::V3),
];

/// The gateway for tenants `a` and `b`, 3 messages per client in a window
/// longer than any test, behind a broker that lets in no one by default.
async fn broker(transport: Transport, usage: &Usage) -> TestBroker {
    let tenants = Arc::new(["a", "b"].map(str::to_owned).into_iter().collect());
    let limit = RateLimit::new(3, Duration::from_secs(3600));
    TestBroker::builder()
        .transport(transport)
        .authn_result(false)
        .authz_result(false)
        .provider(tenants::server(tenants, usage.clone(), limit))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_known_tenants_log_in() {
    for transport in TRANSPORTS {
        let broker = broker(transport, &Usage::default()).await;
        let login = async |username: &str| broker.client("c").username(username).connect().await;
        assert_eq!(
            login("a:alice").await,
            ConnectOutcome::Allowed,
            "{transport:?}"
        );
        assert_eq!(
            login("b:bob").await,
            ConnectOutcome::Allowed,
            "{transport:?}"
        );
        assert_eq!(
            login("c:carol").await,
            ConnectOutcome::Denied,
            "{transport:?}"
        );
        assert_eq!(
            login("alice").await,
            ConnectOutcome::Denied,
            "{transport:?}"
        );
    }
}

#[tokio::test]
async fn a_tenant_uses_only_its_own_topics() {
    for transport in TRANSPORTS {
        let broker = broker(transport, &Usage::default()).await;
        let alice = broker.client("alice").username("a:alice");
        assert_eq!(
            alice.subscribe("t/a/#", 0).await,
            Access::Allowed,
            "{transport:?}"
        );
        assert_eq!(
            alice.subscribe("$share/g/t/a/x", 0).await,
            Access::Allowed,
            "{transport:?}"
        );
        assert_eq!(
            alice.subscribe("t/b/#", 0).await,
            Access::Denied,
            "{transport:?}"
        );
        assert_eq!(
            alice.subscribe("$share/g/t/b/x", 0).await,
            Access::Denied,
            "{transport:?}"
        );
        assert_eq!(
            alice.subscribe("t/ab/x", 0).await,
            Access::Denied,
            "{transport:?}"
        );
        assert_eq!(
            alice.subscribe("t/a", 0).await,
            Access::Denied,
            "{transport:?}"
        );
        assert_eq!(
            alice.publish("t/b/x", "hi").await,
            PublishOutcome::Denied,
            "{transport:?}"
        );
        let intruder = broker.client("eve").username("eve");
        assert_eq!(
            intruder.subscribe("t/a/#", 0).await,
            Access::Denied,
            "{transport:?}"
        );
    }
}

#[tokio::test]
async fn each_client_publishes_at_most_its_limit_and_the_rest_is_dropped() {
    for transport in TRANSPORTS {
        let usage = Usage::default();
        let broker = broker(transport, &usage).await;
        let alice = broker.client("alice").username("a:alice");
        let bob = broker.client("bob").username("b:bob");
        for n in 0..3 {
            let outcome = alice.publish("t/a/x", format!("{n}")).await;
            assert!(outcome.message().is_some(), "{transport:?}: {outcome:?}");
        }
        match alice.publish("t/a/x", "4").await {
            PublishOutcome::Dropped(message) => assert_eq!(&message.payload[..], b"4"),
            other => panic!("{transport:?}: {other:?}"),
        }
        // Another client has its own allowance.
        assert!(
            bob.publish("t/b/x", "1").await.message().is_some(),
            "{transport:?}"
        );
        // The dropped message never reached the handlers.
        assert_eq!((usage.of("a"), usage.of("b")), (3, 1), "{transport:?}");
    }
}
