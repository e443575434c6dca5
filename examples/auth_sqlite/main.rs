//! Authenticates MQTT clients against a user table in SQLite, with salted
//! Argon2id password hashes.
//!
//! ```text
//! echo 's3cret' | cargo run --example auth_sqlite -- --add-user alice
//! cargo run --example auth_sqlite -- --remove-user alice
//! cargo run --example auth_sqlite                    # serve on 127.0.0.1:9000
//! cargo run --example auth_sqlite -- --deny-unknown  # refuse unknown users too
//! ```
//!
//! * `--db PATH` or `AUTH_DB`: the database file (default `users.db`),
//!   created with its table on first use.
//! * `--add-user NAME` reads the password from the first line of standard
//!   input (`read -rs p && echo "$p" | …` keeps it off the screen and out of
//!   the shell history) and adds the user or replaces the password.
//!   `--remove-user NAME` removes the user.
//! * A known user with the right password is allowed, with the wrong one
//!   denied. Unknown users are ignored, so EMQX's other authenticators
//!   decide, unless `--deny-unknown` (or `AUTH_DENY_UNKNOWN=1`) is given.
//! * `EXHOOK_LISTEN` sets the address (default `127.0.0.1:9000`);
//!   `RUST_LOG=debug` logs each decision (never the password).

mod users;

use std::io::BufRead;
use std::process::ExitCode;

use exhook_runtime::*;
use tracing::debug;
pub use users::{Users, Verdict};

/// What happens to usernames the table does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownUsers {
    /// Leave them to EMQX's other authenticators.
    Ignore,
    /// Refuse them.
    Deny,
}

#[on_client_authenticate]
pub async fn authenticate(
    client: &ClientInfo,
    State(users): State<Users>,
    State(unknown): State<UnknownUsers>,
) -> Result<Decision, String> {
    let (username, password) = (client.username.clone(), client.password.clone());
    let verdict = tokio::task::spawn_blocking(move || users.verify(&username, &password))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())?;
    debug!(username = %client.username, clientid = %client.clientid, ?verdict, "client.authenticate");
    Ok(match (verdict, unknown) {
        (Verdict::Valid, _) => Decision::Allow,
        (Verdict::WrongPassword, _) | (Verdict::Unknown, UnknownUsers::Deny) => Decision::Deny,
        (Verdict::Unknown, UnknownUsers::Ignore) => Decision::Ignore,
    })
}

/// The server for a user table.
pub fn server(users: Users, unknown: UnknownUsers) -> Server {
    Server::new(provider![authenticate])
        .state(users)
        .state(unknown)
}

enum Command {
    Serve(UnknownUsers),
    Add(String),
    Remove(String),
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<(String, Command), String> {
    let mut db = std::env::var("AUTH_DB").unwrap_or_else(|_| "users.db".into());
    let deny = std::env::var("AUTH_DENY_UNKNOWN").is_ok_and(|v| v == "1" || v == "true");
    let mut command = Command::Serve(if deny {
        UnknownUsers::Deny
    } else {
        UnknownUsers::Ignore
    });
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--db" => db = value("--db")?,
            "--add-user" => command = Command::Add(value("--add-user")?),
            "--remove-user" => command = Command::Remove(value("--remove-user")?),
            "--deny-unknown" => command = Command::Serve(UnknownUsers::Deny),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((db, command))
}

fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| format!("reading the password from stdin: {error}"))?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err("an empty password was given on stdin".into());
    }
    Ok(password.to_owned())
}

async fn run() -> Result<(), String> {
    let (db, command) = parse(std::env::args().skip(1))?;
    let users = Users::open(&db).map_err(|error| format!("{db}: {error}"))?;
    match command {
        Command::Add(name) => {
            users
                .add(&name, &read_password()?)
                .map_err(|e| e.to_string())?;
            eprintln!("user {name:?} saved in {db}");
        }
        Command::Remove(name) => match users.remove(&name).map_err(|e| e.to_string())? {
            true => eprintln!("user {name:?} removed from {db}"),
            false => return Err(format!("no user {name:?} in {db}")),
        },
        Command::Serve(unknown) => {
            server(users, unknown)
                .serve()
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("auth_sqlite: {error}");
            ExitCode::FAILURE
        }
    }
}
