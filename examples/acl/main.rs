//! Authorizes publish and subscribe requests with rules from a TOML file,
//! reloaded on SIGHUP.
//!
//! ```text
//! cargo run --example acl                          # rules from acl.toml
//! ACL_RULES=/etc/exhook/acl.toml cargo run --example acl
//! kill -HUP <pid>                                  # reload the rules
//! ```
//!
//! The file holds `[[rule]]` tables, checked in order; the first whose
//! action, topics and (optional) `username` / `clientid` match decides, and
//! when none matches the request is ignored, so EMQX's other authorizers
//! (or its `no_match` setting) decide:
//!
//! ```toml
//! [[rule]]
//! permission = "allow"                 # or "deny"
//! action = "all"                       # "publish", "subscribe" or "all"
//! topics = ["devices/${clientid}/#", "users/${username}/#"]
//!
//! [[rule]]
//! permission = "allow"
//! action = "subscribe"
//! username = "dashboard"
//! topics = ["devices/+/telemetry"]
//!
//! [[rule]]
//! permission = "deny"
//! action = "all"
//! topics = ["#"]
//! ```
//!
//! `${username}` and `${clientid}` are replaced by the client's; a rule with
//! a placeholder does not apply to a client whose name is empty or contains
//! `+`, `#` or `/`. Filters are matched as EMQX matches them; a subscribe
//! request's filter is compared as a topic, so `devices/+/telemetry` is
//! allowed by that rule and `devices/#` is not.
//!
//! On SIGHUP the file is read again; a file that cannot be read or parsed
//! is reported and the rules in force stay. `EXHOOK_LISTEN` sets the
//! address (default `127.0.0.1:9000`).

mod rules;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use exhook_runtime::event::{AuthorizeAction, ClientAuthorizeRequest};
use exhook_runtime::*;
pub use rules::{Permission, Rules};
use tracing::{debug, error, info};

/// The rules in force, replaced whole on reload.
#[derive(Clone, Default)]
pub struct Active(Arc<RwLock<Arc<Rules>>>);

impl Active {
    pub fn new(rules: Rules) -> Active {
        Active(Arc::new(RwLock::new(Arc::new(rules))))
    }

    pub fn get(&self) -> Arc<Rules> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace(&self, rules: Rules) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
    }
}

#[on_client_authorize]
pub async fn authorize(
    client: &ClientInfo,
    action: AuthorizeAction,
    request: &ClientAuthorizeRequest,
    State(active): State<Active>,
) -> Decision {
    let permission = active
        .get()
        .check(&client.username, &client.clientid, action, &request.topic);
    debug!(clientid = %client.clientid, ?action, topic = %request.topic, ?permission, "client.authorize");
    match permission {
        Some(Permission::Allow) => Decision::Allow,
        Some(Permission::Deny) => Decision::Deny,
        None => Decision::Ignore,
    }
}

/// The server for a set of rules.
pub fn server(active: Active) -> Server {
    Server::new(provider![authorize]).state(active)
}

/// Reads the file again: the new rules on success, else an error and the
/// rules in force stay.
pub fn reload(path: &std::path::Path, active: &Active) -> Result<usize, String> {
    let rules = Rules::load(path)?;
    let count = rules.len();
    active.replace(rules);
    Ok(count)
}

async fn run() -> Result<(), String> {
    let path = PathBuf::from(std::env::var("ACL_RULES").unwrap_or_else(|_| "acl.toml".into()));
    let rules = Rules::load(&path)?;
    info!("{} rules from {}", rules.len(), path.display());
    let active = Active::new(rules);

    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("SIGHUP handler: {e}"))?;
    let reloading = active.clone();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match reload(&path, &reloading) {
                Ok(count) => info!("reloaded {count} rules from {}", path.display()),
                Err(e) => error!("reload failed, the previous rules stay in force: {e}"),
            }
        }
    });
    server(active).serve().await.map_err(|e| e.to_string())
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
            eprintln!("acl: {error}");
            ExitCode::FAILURE
        }
    }
}
