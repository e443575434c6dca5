//! Authorizes publish and subscribe requests with rules from a TOML file,
//! reloaded on SIGHUP.
//!
//! ```text
//! cargo run -p acl                                # rules from acl.toml
//! ACL_RULES=/etc/exhook/acl.toml cargo run -p acl
//! kill -HUP <pid>                                 # reload the rules
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
//! is reported and the rules in force stay. `cargo run -p acl -- --help`
//! lists the options; `EXHOOK_LISTEN` sets the address (default
//! `127.0.0.1:9000`).

#![warn(missing_docs)]

mod rules;

use std::path::Path;
use std::sync::{Arc, RwLock};

use exhook_runtime::prelude::*;
pub use rules::{LoadError, ParseError, Permission, Rules};
use tracing::{debug, error, info};

/// The rules in force, replaced whole on reload.
#[derive(Clone, Default)]
pub struct Active(Arc<RwLock<Arc<Rules>>>);

impl Active {
    /// `rules` in force.
    pub fn new(rules: Rules) -> Active {
        Active(Arc::new(RwLock::new(Arc::new(rules))))
    }

    /// The rules in force now.
    pub fn get(&self) -> Arc<Rules> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `rules` in force; calls under way finish with the old ones.
    pub fn replace(&self, rules: Rules) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
    }
}

/// `client.authorize`: the first matching rule decides.
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
pub fn reload(path: &Path, active: &Active) -> Result<usize, LoadError> {
    let rules = Rules::load(path)?;
    let count = rules.len();
    active.replace(rules);
    Ok(count)
}

/// Puts the file at `path` in force again on every SIGHUP, for as long as
/// the process runs.
pub fn reload_on_hangup(path: &Path, active: &Active) -> std::io::Result<()> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let (path, active) = (path.to_owned(), active.clone());
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match reload(&path, &active) {
                Ok(count) => info!("reloaded {count} rules from {}", path.display()),
                Err(e) => error!("reload failed, the previous rules stay in force: {e}"),
            }
        }
    });
    Ok(())
}
