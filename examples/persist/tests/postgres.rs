//! Every accepted message becomes one row in PostgreSQL, including after
//! SIGTERM in the middle of a burst. Needs a server: `.ci/run` starts one
//! and sets `EXHOOK_TEST_POSTGRES_URL`
//! (`cargo test -p persist --test postgres -- --include-ignored`).

mod common;

use common::{burst_then_sigterm, example, now_ms};
use exhook_app_testing::{Process, real_server};

/// A fresh schema on the test server, so tests do not share a table.
async fn fresh_schema(url: &str) -> String {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let schema = format!("persist_{}_{}", std::process::id(), now_ms());
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set EXHOOK_TEST_POSTGRES_URL"]
async fn sigterm_mid_burst_writes_every_accepted_message_to_postgresql() {
    let database_url = fresh_schema(&real_server("EXHOOK_TEST_POSTGRES_URL")).await;
    let mut command = example();
    command
        .env("DATABASE_URL", &database_url)
        .env("PERSIST_BATCH", "100");
    let (process, lines) = Process::start(command).await;
    assert!(
        lines.iter().any(|l| l.contains("in PostgreSQL")),
        "{lines:?}"
    );
    let burst = burst_then_sigterm(process, 2000).await;
    assert!(
        burst.accepted.len() >= 500,
        "only {} accepted",
        burst.accepted.len()
    );

    let (client, connection) = tokio_postgres::connect(&database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let ids: Vec<String> = client
        .query("SELECT message_id FROM messages", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    burst.check(&ids);

    // `--query` reads the same table.
    let output = example()
        .env("DATABASE_URL", &database_url)
        .args(["--query", "sensors/+"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().lines().count(),
        burst.written
    );
}
