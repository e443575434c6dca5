//! The real `exhook` binary against providers on loopback: a correct one
//! made with exhook, and hand-written tonic providers that break the
//! protocol in the ways EMQX users meet.

mod broken;

use std::process::{Command, Output, Stdio};

use exhook_runtime::*;
use serde_json::Value as Json;
use tokio::net::TcpListener;

use broken::Break;

#[on_client_authenticate]
async fn auth(client: &ClientInfo) -> Decision {
    match (client.username.as_str(), client.password.as_str()) {
        ("alice", "wonderland") => Decision::Allow,
        ("alice", _) => Decision::Deny,
        _ => Decision::Ignore,
    }
}

#[on_message_publish(topic = "sensors/#")]
async fn shout(mut msg: Message) -> Publish {
    msg.payload = msg.payload.to_ascii_uppercase().into();
    Publish::Continue(msg)
}

/// A correct provider made with exhook, on an ephemeral loopback port.
async fn correct_provider() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Server::new(provider![auth, shout]).serve_on(listener, std::future::pending()));
    url
}

/// Runs `exhook ARGS` with `stdin`; returns its exit code and output.
async fn exhook(args: &[&str], stdin: &str) -> (i32, Output) {
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_exhook"))
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start exhook");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (output.status.code().unwrap_or(-1), output)
    })
    .await
    .unwrap()
}

/// Runs `exhook ARGS --json` and parses what it printed.
async fn exhook_json(args: &[&str]) -> (i32, Json) {
    let mut args = args.to_vec();
    args.push("--json");
    let (code, output) = exhook(&args, "").await;
    let text = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&output.stderr)));
    (code, json)
}

/// The problem codes of a report, each checked to carry EMQX's behaviour.
fn problems(report: &Json) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(
                p["emqx"]
                    .as_str()
                    .is_some_and(|t| t.contains("EMQX") || t.contains("probes")),
                "{p}"
            );
            p["problem"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_correct_provider_probes_and_checks_clean_on_every_generation() {
    let url = correct_provider().await;
    let (code, probe) = exhook_json(&["probe", &url]).await;
    assert_eq!(code, 0, "{probe}");
    assert_eq!(probe["version"], "v3");
    assert_eq!(probe["health"]["status"], "SERVING");
    assert!(
        probe["versions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["answers"] == true)
    );
    let hooks = probe["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2, "{probe}");
    let publish = hooks
        .iter()
        .find(|h| h["name"] == "message.publish")
        .unwrap();
    assert_eq!(publish["topics"][0], "sensors/#");
    for proto in ["v3", "v2", "v1"] {
        let (code, check) = exhook_json(&[
            "check",
            &url,
            "--proto",
            proto,
            "--username",
            "alice",
            "--password",
            "wonderland",
        ])
        .await;
        assert_eq!(code, 0, "{check}");
        assert_eq!(check["clean"], true, "{check}");
        assert_eq!(check["version"], proto);
        let steps = check["steps"].as_array().unwrap();
        let step = |hook: &str| {
            steps
                .iter()
                .find(|s| s["hook"] == hook)
                .unwrap_or_else(|| panic!("{hook}: {check}"))
        };
        assert_eq!(
            step("client.authenticate")["emqx"]["effect"],
            "login_allowed"
        );
        let published = step("message.publish");
        assert_eq!(published["emqx"]["effect"], "routed", "{check}");
        // The check picked a topic the advertised filter matches; the
        // provider upper-cased the payload.
        assert!(
            published["emqx"]["topic"]
                .as_str()
                .unwrap()
                .starts_with("sensors")
        );
        assert_eq!(published["emqx"]["payload"], "HELLO");
        assert_eq!(step("client.connect")["called"], false);
    }
}

#[tokio::test]
async fn call_reads_the_password_from_stdin_and_tells_what_emqx_does() {
    let url = correct_provider().await;
    let (code, output) = exhook(
        &[
            "call",
            &url,
            "client.authenticate",
            "--username",
            "alice",
            "--password-stdin",
            "--json",
        ],
        "wonderland\n",
    )
    .await;
    assert_eq!(code, 0);
    let call: Json = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(call["answer"]["type"], "STOP_AND_RETURN");
    assert_eq!(call["answer"]["value"]["bool_result"], true);
    assert_eq!(call["emqx"]["effect"], "login_allowed");
    let (_, output) = exhook(
        &[
            "call",
            &url,
            "client.authenticate",
            "--username",
            "alice",
            "--password-stdin",
            "--json",
        ],
        "guess\n",
    )
    .await;
    let call: Json = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(call["emqx"]["effect"], "login_refused");
    // An ignored login keeps the chain's result.
    let (_, call) = exhook_json(&[
        "call",
        &url,
        "client.authenticate",
        "--username",
        "bob",
        "--result",
        "false",
    ])
    .await;
    assert_eq!(call["answer"]["type"], "IGNORE");
    assert_eq!(call["emqx"]["effect"], "login_refused");
    let (_, call) = exhook_json(&[
        "call",
        &url,
        "message.publish",
        "--topic",
        "sensors/1",
        "--payload",
        "hot",
        "--qos",
        "1",
    ])
    .await;
    assert_eq!(
        (
            call["emqx"]["effect"].as_str(),
            call["emqx"]["payload"].as_str(),
            call["emqx"]["qos"].as_u64()
        ),
        (Some("routed"), Some("HOT"), Some(1))
    );
    let (_, call) = exhook_json(&["call", &url, "message.publish", "--topic", "chat/1"]).await;
    assert_eq!(
        call["advertised"], false,
        "EMQX sends only topics the filters match"
    );
    let (code, output) = exhook(&["call", &url, "client.nothing"], "").await;
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown hook"));
}

#[tokio::test]
async fn check_reports_every_break_of_a_hand_written_provider_with_emqx_behaviour() {
    let url = broken::serve(Break::PublishAnswersBool).await;
    let (code, check) = exhook_json(&["check", &url, "--timeout", "1s"]).await;
    assert_eq!(code, 1, "{check}");
    let found = problems(&check);
    for expected in [
        "no_health_service",
        "duplicate_hook",
        "topics_ignored",
        "wrong_oneof",
        "slower_than_request_timeout",
        "unadvertised_hook_fails",
    ] {
        assert!(
            found.iter().any(|p| p == expected),
            "{expected} missing from {found:?}"
        );
    }
    // The bool answer to message.publish is ignored: the message goes on unchanged.
    let steps = check["steps"].as_array().unwrap();
    let publish = steps
        .iter()
        .find(|s| s["hook"] == "message.publish")
        .unwrap();
    assert_eq!(publish["emqx"]["effect"], "routed");
    assert_eq!(publish["emqx"]["payload"], "hello");
    // The slow authorize falls to failed_action = deny.
    let authorize = steps
        .iter()
        .find(|s| s["hook"] == "client.authorize")
        .unwrap();
    assert_eq!(authorize["emqx"]["effect"], "denied", "{authorize}");
    let (_, text) = exhook(&["check", &url, "--timeout", "1s"], "").await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("unknown_responsed_value"), "{text}");
}

#[tokio::test]
async fn publish_answers_that_drop_topic_and_qos_are_reported() {
    let url = broken::serve(Break::PublishDropsFields).await;
    let (code, check) = exhook_json(&["check", &url, "--timeout", "1s"]).await;
    assert_eq!(code, 1);
    let found = problems(&check);
    assert!(
        found.contains(&"publish_drops_topic".to_owned())
            && found.contains(&"publish_drops_qos".to_owned()),
        "{found:?}"
    );
    let steps = check["steps"].as_array().unwrap();
    let publish = steps
        .iter()
        .find(|s| s["hook"] == "message.publish")
        .unwrap();
    assert_eq!(
        (
            publish["emqx"]["topic"].as_str(),
            publish["emqx"]["qos"].as_u64()
        ),
        (Some(""), Some(0))
    );
    // Routed to the empty topic, the message reaches no subscriber.
    assert!(steps.iter().any(|s| s["hook"] == "message.dropped"));
}

#[tokio::test]
async fn a_hook_advertised_twice_alone_fails_the_check_and_its_later_topics_are_not_called() {
    let url = broken::serve(Break::OnlyDuplicateHook).await;
    // On a topic of the first entry, the publish is called and answered.
    let (code, check) = exhook_json(&["check", &url, "--topic", "t/1"]).await;
    assert_eq!(code, 1, "{check}");
    assert_eq!(problems(&check), ["duplicate_hook"], "{check}");
    let problem = &check["problems"][0];
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(r#"["t/#"]"#) && d.contains(r#"drops ["u/#"]"#)),
        "{problem}"
    );
    assert!(
        problem["emqx"]
            .as_str()
            .is_some_and(|e| e.contains("first entry")),
        "{problem}"
    );
    let publish = |check: &Json| {
        check["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["hook"] == "message.publish")
            .cloned()
            .unwrap()
    };
    assert_eq!(publish(&check)["called"], true, "{check}");
    // EMQX kept only the first entry, so a topic of the second is never sent.
    let (code, check) = exhook_json(&["check", &url, "--topic", "u/1"]).await;
    assert_eq!(code, 1, "{check}");
    assert_eq!(publish(&check)["called"], false, "{check}");
    let hooks = check["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2, "{check}");
    assert_eq!(hooks[1]["topics"], serde_json::json!(["t/#"]));
    // The text report states the break and EMQX's behaviour.
    let (code, text) = exhook(&["check", &url], "").await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(code, 1);
    assert!(text.contains("[duplicate_hook]"), "{text}");
    assert!(text.contains("first entry"), "{text}");
}

#[tokio::test]
async fn an_unknown_hook_name_fails_the_load_and_the_probe() {
    let url = broken::serve(Break::UnknownHook).await;
    let (code, probe) = exhook_json(&["probe", &url]).await;
    assert_eq!(code, 1, "{probe}");
    assert!(problems(&probe).contains(&"unknown_hook".to_owned()));
    assert_eq!(probe["loads"], false);
    // Only v3 is served: v1 and v2 are reported as not answering.
    let answering: Vec<&str> = probe["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["answers"] == true)
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(answering, ["v3"]);
    let (code, check) = exhook_json(&["check", &url]).await;
    assert_eq!(code, 1);
    assert!(
        check["steps"].as_array().unwrap().is_empty(),
        "EMQX calls nothing after a failed load"
    );
}

#[tokio::test]
async fn health_only_probes_exit_codes_fit_container_health_checks() {
    let url = correct_provider().await;
    assert_eq!(exhook(&["probe", &url, "--health-only"], "").await.0, 0);
    let broken = broken::serve(Break::PublishAnswersBool).await;
    assert_eq!(exhook(&["probe", &broken, "--health-only"], "").await.0, 1);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    assert_eq!(
        exhook(&["probe", &closed, "--timeout", "2s"], "").await.0,
        3
    );
}

#[tokio::test]
async fn bench_counts_every_call_and_reports_latency_quantiles() {
    let url = correct_provider().await;
    let (code, bench) = exhook_json(&[
        "bench",
        &url,
        "--hook",
        "mixed",
        "--connections",
        "2",
        "--concurrency",
        "4",
        "--calls",
        "300",
    ])
    .await;
    assert_eq!(code, 0, "{bench}");
    assert_eq!(bench["calls"], 300);
    assert_eq!(bench["errors"], serde_json::json!({}));
    let latency = &bench["latency_us"];
    let p50 = latency["p50"].as_f64().unwrap();
    assert!(
        p50 > 0.0
            && p50 <= latency["p99"].as_f64().unwrap()
            && latency["p99"].as_f64().unwrap() <= latency["max"].as_f64().unwrap()
    );
    // Open loop: 100 calls offered at 200/s take about half a second.
    let (code, bench) = exhook_json(&[
        "bench",
        &url,
        "--calls",
        "100",
        "--rate",
        "200",
        "--connections",
        "1",
        "--concurrency",
        "4",
    ])
    .await;
    assert_eq!(code, 0);
    assert_eq!(bench["coordinated_omission_corrected"], true);
    assert!(bench["seconds"].as_f64().unwrap() >= 0.45, "{bench}");
}

#[tokio::test]
async fn bench_counts_answers_emqx_cannot_read_as_failed_calls() {
    // Publish answers carrying bool_result: gRPC OK, but EMQX ignores them.
    let url = broken::serve(Break::PublishAnswersBool).await;
    let (code, bench) = exhook_json(&[
        "bench",
        &url,
        "--topic",
        "t/1",
        "--connections",
        "1",
        "--concurrency",
        "2",
        "--calls",
        "20",
    ])
    .await;
    assert_eq!(code, 1, "{bench}");
    assert_eq!(bench["calls"], 20);
    let errors = bench["errors"].as_object().unwrap();
    assert_eq!(errors.len(), 1, "{bench}");
    let (why, count) = errors.iter().next().unwrap();
    assert!(why.contains("unknown_responsed_value"), "{why}");
    assert_eq!(count, 20);
    assert_eq!(
        bench["latency_us"]["max"], 0.0,
        "no call was answered: {bench}"
    );
}

#[tokio::test]
async fn emqx_config_prints_either_generations_settings() {
    let (code, output) = exhook(
        &[
            "emqx-config",
            "http://exhook.default.svc:9000",
            "--name",
            "auth",
            "--timeout",
            "3s",
        ],
        "",
    )
    .await;
    assert_eq!(code, 0);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("exhook.servers = [")
            && text.contains("url = \"http://exhook.default.svc:9000\"")
            && text.contains("request_timeout = \"3s\""),
        "{text}"
    );
    let (_, output) = exhook(
        &[
            "emqx-config",
            "http://exhook:9000",
            "--emqx",
            "4",
            "--cacert",
            "ca.pem",
        ],
        "",
    )
    .await;
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("exhook.server.exhook.url = https://exhook:9000")
            && text.contains("ssl.cacertfile = ca.pem"),
        "{text}"
    );
    let (code, output) = exhook(&["emqx-config", "http://exhook"], "").await;
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("explicit port"));
}

#[tokio::test]
async fn help_carries_examples() {
    for sub in ["probe", "call", "check", "bench", "emqx-config"] {
        let (code, output) = exhook(&[sub, "--help"], "").await;
        assert_eq!(code, 0);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(&format!("exhook {sub} http")),
            "{sub}"
        );
    }
}

/// A CA, a server certificate for `localhost` and a client certificate,
/// written to a fresh folder: (folder, ca, server cert, server key).
fn pki() -> (std::path::PathBuf, String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: &[&str]| {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        (
            params.signed_by(&key, &ca).unwrap().pem(),
            key.serialize_pem(),
        )
    };
    let (server_cert, server_key) = leaf(&["localhost"]);
    let (client_cert, client_key) = leaf(&["emqx-node-1"]);
    let dir = std::env::temp_dir().join(format!("exhook-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("client.pem"), client_cert).unwrap();
    std::fs::write(dir.join("client.key"), client_key).unwrap();
    (dir, ca.pem(), server_cert, server_key)
}

#[tokio::test]
async fn probe_and_check_speak_mutual_tls() {
    let (dir, ca, cert, key) = pki();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let tls = TlsConfig::from_pem(cert, key).client_ca(ca);
    tokio::spawn(
        Server::new(provider![auth, shout])
            .tls(tls)
            .serve_on(listener, std::future::pending()),
    );
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (ca, client, client_key) = (file("ca.pem"), file("client.pem"), file("client.key"));
    let (code, probe) = exhook_json(&[
        "probe",
        &url,
        "--cacert",
        &ca,
        "--cert",
        &client,
        "--key",
        &client_key,
    ])
    .await;
    assert_eq!(code, 0, "{probe}");
    assert_eq!(probe["hooks"].as_array().unwrap().len(), 2);
    let (code, check) = exhook_json(&[
        "check",
        &url,
        "--cacert",
        &ca,
        "--cert",
        &client,
        "--key",
        &client_key,
    ])
    .await;
    assert_eq!((code, &check["clean"]), (0, &Json::Bool(true)), "{check}");
    // Without a client certificate the server refuses the handshake.
    let (code, _) = exhook(&["probe", &url, "--cacert", &ca, "--timeout", "2s"], "").await;
    assert_ne!(code, 0);
    let _ = std::fs::remove_dir_all(dir);
}
