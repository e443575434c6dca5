//! Authenticates MQTT clients against a user table in SQLite, with salted
//! Argon2id password hashes.
//!
//! ```text
//! echo 's3cret' | cargo run -p auth_sqlite -- --add-user alice
//! cargo run -p auth_sqlite -- --remove-user alice
//! cargo run -p auth_sqlite                    # serve on 127.0.0.1:9000
//! cargo run -p auth_sqlite -- --deny-unknown  # refuse unknown users too
//! ```
//!
//! A known user with the right password is allowed, with the wrong one
//! denied. Unknown users are ignored, so EMQX's other authenticators decide,
//! unless [`UnknownUsers::Deny`] is chosen. `cargo run -p auth_sqlite --
//! --help` lists the options; `EXHOOK_LISTEN` sets the address (default
//! `127.0.0.1:9000`); `RUST_LOG=debug` logs each decision (never the
//! password).

#![warn(missing_docs)]

mod users;

use exhook_runtime::prelude::*;
use tracing::debug;
pub use users::{Error, Users, Verdict};

/// What happens to usernames the table does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownUsers {
    /// Leave them to EMQX's other authenticators.
    Ignore,
    /// Refuse them.
    Deny,
}

/// Why a login could not be checked; EMQX then applies `failed_action`.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The user table failed.
    #[error(transparent)]
    Table(#[from] users::Error),
    /// The password check (on a blocking thread) did not finish.
    #[error("password check: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// `client.authenticate`: the client's password against the table.
#[on_client_authenticate]
pub async fn authenticate(
    client: &ClientInfo,
    State(users): State<Users>,
    State(unknown): State<UnknownUsers>,
) -> Result<Decision, CheckError> {
    let (username, password) = (client.username.clone(), client.password.clone());
    // Argon2 is slow on purpose: off the async workers.
    let verdict = tokio::task::spawn_blocking(move || users.verify(&username, &password)).await??;
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
