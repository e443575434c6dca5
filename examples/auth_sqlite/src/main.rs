//! `auth_sqlite`: serve, or manage the user table.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use auth_sqlite::{UnknownUsers, Users};
use clap::Parser;

/// Authenticates MQTT clients for EMQX against a SQLite user table with
/// salted Argon2id hashes. Serves on EXHOOK_LISTEN (default 127.0.0.1:9000)
/// unless a user is added or removed.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The user database, created with its table on first use.
    #[arg(long, env = "AUTH_DB", default_value = "users.db")]
    db: PathBuf,
    /// Refuse users the table does not know, instead of leaving them to
    /// EMQX's other authenticators.
    #[arg(long, env = "AUTH_DENY_UNKNOWN", value_parser = clap::builder::BoolishValueParser::new())]
    deny_unknown: bool,
    /// Add USER, or replace its password, with the password read from the
    /// first line of standard input (`read -rs p && echo "$p" | …` keeps it
    /// off the screen and out of the shell history).
    #[arg(long, value_name = "USER", conflicts_with = "remove_user")]
    add_user: Option<String>,
    /// Remove USER.
    #[arg(long, value_name = "USER")]
    remove_user: Option<String>,
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!("an empty password was given on stdin");
    }
    Ok(password.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    exhook_app_support::init_logging();
    let db = cli.db.display();
    let users = Users::open(&cli.db).with_context(|| format!("{db}"))?;
    if let Some(name) = cli.add_user {
        users.add(&name, &read_password()?)?;
        eprintln!("user {name:?} saved in {db}");
    } else if let Some(name) = cli.remove_user {
        if !users.remove(&name)? {
            bail!("no user {name:?} in {db}");
        }
        eprintln!("user {name:?} removed from {db}");
    } else {
        let unknown = match cli.deny_unknown {
            true => UnknownUsers::Deny,
            false => UnknownUsers::Ignore,
        };
        auth_sqlite::server(users, unknown).serve().await?;
    }
    Ok(())
}
