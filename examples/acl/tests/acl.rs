//! Ordered rules with placeholders, first match wins, no
//! match ignores; reloaded on SIGHUP, and a bad file keeps the old rules.

use std::process::Command;

use acl::{Active, Permission, Rules};
use exhook_app_testing::{Process, TempDir, client_v3, valued};
use exhook_runtime::Version;
use exhook_runtime::event::AuthorizeAction::{Publish, Subscribe};
use exhook_runtime::proto::v3;
use exhook_runtime::testing::{Access, PublishOutcome, TestBroker, Transport};
use v3::valued_response::Value;

const SHIPPED: &str = include_str!("../acl.toml");

async fn broker(rules: &str, transport: Transport) -> TestBroker {
    TestBroker::builder()
        .transport(transport)
        // What EMQX decides when no authorizer matched (`no_match = allow`).
        .authz_result(true)
        .provider(acl::server(Active::new(Rules::parse(rules).unwrap())))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_shipped_rules_through_the_broker() {
    for transport in [
        Transport::InProcess,
        Transport::Grpc(Version::V3),
        Transport::Grpc(Version::V1),
    ] {
        let broker = broker(SHIPPED, transport).await;
        let device = broker.client("d1").username("sensor");
        let other = broker.client("d2").username("sensor");
        let dashboard = broker.client("web").username("dashboard");
        for client in [&device, &other, &dashboard] {
            client.connect().await;
        }
        // Own subtree: both ways.
        assert_eq!(device.subscribe("devices/d1/cmd", 1).await, Access::Allowed);
        assert!(matches!(
            device.publish("devices/d1/telemetry", "21").await,
            PublishOutcome::Published { .. }
        ));
        // Someone else's subtree: denied by the last rule.
        assert_eq!(
            other.publish("devices/d1/cmd", "reboot").await,
            PublishOutcome::Denied
        );
        assert_eq!(other.subscribe("devices/d1/#", 0).await, Access::Denied);
        // The dashboard may subscribe to telemetry only, not publish there.
        assert_eq!(
            dashboard.subscribe("devices/+/telemetry", 0).await,
            Access::Allowed
        );
        assert_eq!(dashboard.subscribe("devices/#", 0).await, Access::Denied);
        assert_eq!(
            dashboard.publish("devices/d1/telemetry", "x").await,
            PublishOutcome::Denied
        );
        // No rule matches: ignored, so EMQX's `no_match` (allow here) decides.
        assert!(matches!(
            other.publish("chat/general", "hi").await,
            PublishOutcome::Published { .. }
        ));
    }
}

fn check(
    rules: &Rules,
    user: &str,
    client: &str,
    action: exhook_runtime::event::AuthorizeAction,
    topic: &str,
) -> Option<Permission> {
    rules.check(user, client, action, topic)
}

#[test]
fn first_match_wins_and_actions_are_separate() {
    let rules = Rules::parse(
        r#"
        [[rule]]
        permission = "deny"
        action = "publish"
        topics = ["alarms/#"]
        [[rule]]
        permission = "allow"
        action = "all"
        topics = ["alarms/#", "users/${username}/+"]
        "#,
    )
    .unwrap();
    assert_eq!(
        check(&rules, "u", "c", Publish, "alarms/fire"),
        Some(Permission::Deny)
    );
    assert_eq!(
        check(&rules, "u", "c", Subscribe, "alarms/#"),
        Some(Permission::Allow)
    );
    assert_eq!(
        check(&rules, "u", "c", Publish, "alarms"),
        Some(Permission::Deny),
        "`a/#` matches `a`"
    );
    assert_eq!(
        check(&rules, "ann", "c", Publish, "users/ann/inbox"),
        Some(Permission::Allow)
    );
    assert_eq!(check(&rules, "ann", "c", Publish, "users/bob/inbox"), None);
    assert_eq!(check(&rules, "ann", "c", Publish, "users/ann/a/b"), None);
    assert_eq!(check(&rules, "ann", "c", Publish, "$SYS/x"), None);
}

#[test]
fn placeholders_never_widen_a_rule() {
    let rules = Rules::parse(
        r#"
        [[rule]]
        permission = "allow"
        action = "all"
        topics = ["devices/${clientid}/#"]
        "#,
    )
    .unwrap();
    assert_eq!(
        check(&rules, "u", "d1", Publish, "devices/d1/x"),
        Some(Permission::Allow)
    );
    // A client id that is a wildcard, contains a separator or is empty
    // does not get the rule.
    for clientid in ["+", "#", "d1/x", ""] {
        assert_eq!(
            check(&rules, "u", clientid, Publish, "devices/d1/x"),
            None,
            "{clientid:?}"
        );
        assert_eq!(
            check(
                &rules,
                "u",
                clientid,
                Publish,
                &format!("devices/{clientid}/x")
            ),
            None,
            "{clientid:?}"
        );
    }
}

#[test]
fn bad_files_are_refused_with_the_rule_and_the_reason() {
    for (text, expected) in [
        (
            "[[rule]]\npermission = \"allow\"\naction = \"all\"\ntopics = [\"a/#/b\"]",
            "rule 1: topic \"a/#/b\"",
        ),
        (
            "[[rule]]\npermission = \"maybe\"\naction = \"all\"\ntopics = [\"a\"]",
            "maybe",
        ),
        (
            "[[rule]]\npermission = \"allow\"\naction = \"read\"\ntopics = [\"a\"]",
            "read",
        ),
        (
            "[[rule]]\npermission = \"allow\"\naction = \"all\"\ntopics = []",
            "rule 1: `topics` is empty",
        ),
        (
            "[[rule]]\npermission = \"allow\"\naction = \"all\"\ntopic = [\"a\"]",
            "topic",
        ),
        ("[[rule]\n", "rule"),
    ] {
        let error = Rules::parse(text).unwrap_err().to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
    assert_eq!(Rules::parse("").unwrap().len(), 0);
}

async fn authorize(
    process: &Process,
    clientid: &str,
    action: i32,
    topic: &str,
) -> (&'static str, Option<Value>) {
    let request = v3::ClientAuthorizeRequest {
        clientinfo: Some(client_v3(clientid, "user")),
        r#type: action,
        topic: topic.into(),
        result: true,
        meta: None,
    };
    valued(
        process
            .v3()
            .await
            .on_client_authorize(request)
            .await
            .unwrap()
            .into_inner(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_a_bad_file_keeps_the_rules_in_force() {
    let dir = TempDir::new("acl");
    let path = dir.join("acl.toml");
    std::fs::write(&path, SHIPPED).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_acl"));
    command.arg("--rules").arg(&path);
    let (mut process, lines) = Process::start(command).await;
    assert!(
        lines.iter().any(|l| l.contains("3 rules from")),
        "{lines:?}"
    );

    let allow = ("STOP_AND_RETURN", Some(Value::BoolResult(true)));
    let deny = ("STOP_AND_RETURN", Some(Value::BoolResult(false)));
    let publish = v3::client_authorize_request::AuthorizeReqType::Publish as i32;
    assert_eq!(
        authorize(&process, "d2", publish, "devices/d1/cmd").await,
        deny
    );
    assert_eq!(
        authorize(&process, "d1", publish, "devices/d1/cmd").await,
        allow
    );
    assert_eq!(
        authorize(&process, "d1", publish, "chat").await,
        ("IGNORE", None)
    );

    std::fs::write(
        &path,
        "[[rule]]\npermission = \"allow\"\naction = \"publish\"\ntopics = [\"devices/#\"]\n",
    )
    .unwrap();
    process.signal("HUP");
    process.wait_for_line("reloaded 1 rules").await;
    assert_eq!(
        authorize(&process, "d2", publish, "devices/d1/cmd").await,
        allow
    );
    assert_eq!(
        authorize(&process, "d1", publish, "chat").await,
        ("IGNORE", None)
    );

    std::fs::write(
        &path,
        "[[rule]]\npermission = \"allow\"\naction = \"publish\"\ntopics = [\"devices/#/x\"]\n",
    )
    .unwrap();
    process.signal("HUP");
    let line = process.wait_for_line("reload failed").await;
    assert!(
        line.contains("previous rules stay") && line.contains("devices/#/x"),
        "{line}"
    );
    assert_eq!(
        authorize(&process, "d2", publish, "devices/d1/cmd").await,
        allow
    );

    std::fs::remove_file(&path).unwrap();
    process.signal("HUP");
    process.wait_for_line("reload failed").await;
    assert_eq!(
        authorize(&process, "d2", publish, "devices/d1/cmd").await,
        allow
    );

    process.terminate();
    assert!(process.wait().await.0.success());
}

#[test]
fn help_names_the_rules_file_and_its_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_acl"))
        .env_remove("ACL_RULES")
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    // clap wraps long lines at a width of its choosing: compare words.
    let help = String::from_utf8(output.stdout).unwrap();
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("--rules <RULES>") && words.contains("[env: ACL_RULES=]"),
        "{help}"
    );
    assert!(words.contains("[default: acl.toml]"), "{help}");
}

#[test]
fn a_missing_rules_file_stops_the_start_with_its_name() {
    let output = Command::new(env!("CARGO_BIN_EXE_acl"))
        .env("ACL_RULES", "/nonexistent/acl.toml")
        .env("EXHOOK_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("/nonexistent/acl.toml: "), "{said}");
}
