//! `acl`: serve the rules of a file, reloaded on SIGHUP.

use std::path::PathBuf;

use acl::{Active, Rules};
use anyhow::Context;
use clap::Parser;
use tracing::info;

/// Authorizes MQTT publish and subscribe requests for EMQX with ordered
/// rules from a TOML file; `kill -HUP` reloads it. Serves on EXHOOK_LISTEN
/// (default 127.0.0.1:9000).
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The rules file.
    #[arg(long, env = "ACL_RULES", default_value = "acl.toml")]
    rules: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    exhook_app_support::init_logging();
    let rules = Rules::load(&cli.rules)?;
    info!("{} rules from {}", rules.len(), cli.rules.display());
    let active = Active::new(rules);
    acl::reload_on_hangup(&cli.rules, &active).context("SIGHUP handler")?;
    acl::server(active).serve().await?;
    Ok(())
}
