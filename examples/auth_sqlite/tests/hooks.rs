// The handlers of this crate (`src/lib.rs`), tested without a broker.
use auth_sqlite::{UnknownUsers, Users, authenticate};
use exhook_runtime::testing::{Answered, ConnectOutcome, TestBroker, Transport};
use exhook_runtime::{ClientInfo, Decision, State, Version};

fn users() -> Users {
    let users = Users::open(":memory:").unwrap();
    users.add("alice", "correct horse").unwrap();
    users
}

#[tokio::test]
async fn right_password_in_wrong_out_unknown_left_to_emqx() {
    for transport in [
        Transport::InProcess,
        Transport::Grpc(Version::V3),
        Transport::Grpc(Version::V1),
    ] {
        let broker = TestBroker::builder()
            .transport(transport)
            // What EMQX decides when every authenticator ignored the client.
            .authn_result(true)
            .provider(auth_sqlite::server(users(), UnknownUsers::Ignore))
            .start()
            .await
            .unwrap();

        let login = |user: &str, pass: &str| broker.client("c").username(user).password(pass);
        assert_eq!(
            login("alice", "correct horse").connect().await,
            ConnectOutcome::Allowed
        );
        assert_eq!(
            login("alice", "correct hors").connect().await,
            ConnectOutcome::Denied
        );
        assert_eq!(login("alice", "").connect().await, ConnectOutcome::Denied);
        // Ignored, so EMQX's own result (allow, here) stands.
        broker.take_answers();
        assert_eq!(
            login("mallory", "x").connect().await,
            ConnectOutcome::Allowed
        );
        assert_eq!(broker.take_answers()[0].answer, Answered::Ignore);
    }
}

#[tokio::test]
async fn handlers_are_plain_functions() {
    let mallory = ClientInfo {
        username: "mallory".into(),
        password: "x".into(),
        ..Default::default()
    };
    let decision = authenticate(&mallory, State(users()), State(UnknownUsers::Deny)).await;
    assert_eq!(decision.unwrap(), Decision::Deny);
}
