//! The user table on disk, and the `auth_sqlite` command as a user runs it:
//! users added with the command are authenticated against their salted
//! hashes; unknown users are ignored or denied.

use std::io::Write;
use std::process::{Command, Stdio};

use auth_sqlite::{UnknownUsers, Users, Verdict};
use exhook_app_testing::{Process, TempDir, client_v3, valued};
use exhook_runtime::Version;
use exhook_runtime::proto::v3;
use exhook_runtime::testing::{ConnectOutcome, TestBroker, Transport};
use v3::valued_response::Value;

#[tokio::test]
async fn unknown_users_are_denied_when_asked() {
    let dir = TempDir::new("auth");
    let users = Users::open(dir.join("users.db")).unwrap();
    users.add("alice", "pw").unwrap();
    let broker = TestBroker::builder()
        .transport(Transport::Grpc(Version::V2))
        .authn_result(true)
        .provider(auth_sqlite::server(users, UnknownUsers::Deny))
        .start()
        .await
        .unwrap();
    let login = |user: &str, password: &str| broker.client("c").username(user).password(password);
    assert_eq!(
        login("mallory", "pw").connect().await,
        ConnectOutcome::Denied
    );
    assert_eq!(
        login("alice", "pw").connect().await,
        ConnectOutcome::Allowed
    );
}

#[test]
fn only_salted_hashes_are_stored_and_users_can_be_replaced_or_removed() {
    let dir = TempDir::new("auth");
    let path = dir.join("users.db");
    let users = Users::open(&path).unwrap();
    users.add("alice", "same password").unwrap();
    users.add("bob", "same password").unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    let hashes: Vec<String> = db
        .prepare("SELECT password_hash FROM users ORDER BY username")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes.len(), 2);
    assert!(
        hashes.iter().all(|h| h.starts_with("$argon2id$")),
        "{hashes:?}"
    );
    assert!(hashes.iter().all(|h| !h.contains("same password")));
    assert_ne!(hashes[0], hashes[1], "each hash has its own salt");

    users.add("alice", "new password").unwrap();
    assert_eq!(
        users.verify("alice", "same password").unwrap(),
        Verdict::WrongPassword
    );
    assert_eq!(
        users.verify("alice", "new password").unwrap(),
        Verdict::Valid
    );
    assert!(users.remove("alice").unwrap());
    assert!(!users.remove("alice").unwrap());
    assert_eq!(
        users.verify("alice", "new password").unwrap(),
        Verdict::Unknown
    );
    // Reopening the file keeps what was stored.
    drop(users);
    let users = Users::open(&path).unwrap();
    assert_eq!(
        users.verify("bob", "same password").unwrap(),
        Verdict::Valid
    );
}

/// The command, with none of its settings taken from the test's shell.
fn example() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auth_sqlite"));
    command
        .env_remove("AUTH_DB")
        .env_remove("AUTH_DENY_UNKNOWN");
    command
}

/// Runs `--add-user` or `--remove-user` as a user would; status and stderr.
fn manage(db: &std::path::Path, flag: &str, name: &str, stdin: &str) -> (bool, String) {
    let mut child = example()
        .arg("--db")
        .arg(db)
        .args([flag, name])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn authenticate(
    process: &Process,
    user: &str,
    password: &str,
) -> (&'static str, Option<Value>) {
    let mut clientinfo = client_v3("c1", user);
    clientinfo.password = password.into();
    let request = v3::ClientAuthenticateRequest {
        clientinfo: Some(clientinfo),
        result: true,
        meta: None,
    };
    valued(
        process
            .v3()
            .await
            .on_client_authenticate(request)
            .await
            .unwrap()
            .into_inner(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_adds_users_that_the_server_then_authenticates() {
    let dir = TempDir::new("auth");
    let db = dir.join("users.db");
    let (ok, said) = manage(&db, "--add-user", "alice", "wonderland\n");
    assert!(ok, "{said}");
    assert!(
        !said.contains("wonderland"),
        "the password was printed: {said}"
    );
    assert!(manage(&db, "--add-user", "bob", "builder\n").0);
    let (ok, said) = manage(&db, "--add-user", "carol", "");
    assert!(!ok && said.contains("empty password"), "{said}");

    let mut command = example();
    command.arg("--db").arg(&db);
    let (process, _) = Process::start(command).await;
    let allow = ("STOP_AND_RETURN", Some(Value::BoolResult(true)));
    let deny = ("STOP_AND_RETURN", Some(Value::BoolResult(false)));
    assert_eq!(authenticate(&process, "alice", "wonderland").await, allow);
    assert_eq!(authenticate(&process, "bob", "builder").await, allow);
    assert_eq!(authenticate(&process, "alice", "builder").await, deny);
    assert_eq!(authenticate(&process, "carol", "").await, ("IGNORE", None));

    // Users removed while the server runs are unknown from the next login.
    let (ok, said) = manage(&db, "--remove-user", "bob", "");
    assert!(ok, "{said}");
    assert_eq!(
        authenticate(&process, "bob", "builder").await,
        ("IGNORE", None)
    );
    let (ok, said) = manage(&db, "--remove-user", "bob", "");
    assert!(!ok && said.contains("no user"), "{said}");
    process.terminate();
    assert!(process.wait().await.0.success());

    let mut command = example();
    // The variable as a service manager would set it (`--deny-unknown` is the same).
    command.arg("--db").arg(&db).env("AUTH_DENY_UNKNOWN", "1");
    let (process, _) = Process::start(command).await;
    assert_eq!(authenticate(&process, "bob", "builder").await, deny);
    assert_eq!(authenticate(&process, "alice", "wonderland").await, allow);
}

#[test]
fn help_lists_the_options_and_their_variables() {
    let output = example().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--db <DB>",
        "[env: AUTH_DB=]",
        "--deny-unknown",
        "[env: AUTH_DENY_UNKNOWN=]",
        "--add-user <USER>",
        "--remove-user <USER>",
    ] {
        // clap wraps long lines at a width of its choosing: compare words.
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&help).contains(&words(option)),
            "{option} missing from:\n{help}"
        );
    }
}

#[test]
fn adding_and_removing_at_once_is_refused() {
    let output = example()
        .args([
            "--db",
            "/nonexistent/users.db",
            "--add-user",
            "a",
            "--remove-user",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("cannot be used with"), "{said}");
}
