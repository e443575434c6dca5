//! `exhook emqx-config`: the EMQX configuration that points at a provider.

use crate::emqx::FailedAction;
use crate::exit::{self, Exit};
use crate::target::Common;

/// Arguments of `exhook emqx-config`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider's URL as EMQX must reach it, with an explicit port.
    url: String,
    /// The EMQX major version: 5 (HOCON `exhook.servers`) or 4
    /// (`emqx_exhook.conf` lines).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(4..=5))]
    emqx: u8,
    /// The server's name in EMQX.
    #[arg(long, default_value = "exhook")]
    name: String,
    /// What EMQX does when the provider fails or is down.
    #[arg(long, value_enum, default_value = "deny")]
    failed_action: FailedAction,
    /// HTTP/2 connections per EMQX node.
    #[arg(long, default_value_t = 8)]
    pool_size: u32,
}

/// EMQX's rule for server names: `^[A-Za-z0-9]+[A-Za-z0-9-_]*$`, ≤ 256.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 256
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `http(s)://host:port`: EMQX uses only these parts and needs the port.
fn check_url(url: &str, tls: bool) -> Result<String, String> {
    let uri: http::Uri = url.parse().map_err(|error| format!("{url}: {error}"))?;
    let scheme = uri.scheme_str().unwrap_or("");
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "{url}: EMQX accepts only http:// and https:// URLs"
        ));
    }
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?;
    let port = uri.port_u16().ok_or_else(|| {
        format!("{url}: EMQX needs an explicit port (bad_server_url), as in {scheme}://{host}:9000")
    })?;
    let scheme = if tls { "https" } else { scheme };
    Ok(format!("{scheme}://{host}:{port}"))
}

pub(crate) fn run(args: Args, common: &Common) -> Exit {
    if !valid_name(&args.name) {
        return exit::usage(&format!(
            "`{}`: EMQX server names are letters, digits, `-` and `_`, starting with a letter or digit",
            args.name
        ));
    }
    let tls = common.uses_tls(&args.url);
    let url = match check_url(&args.url, tls) {
        Ok(url) => url,
        Err(error) => return exit::usage(&error),
    };
    let timeout = humantime::format_duration(common.timeout).to_string();
    let text = if args.emqx == 5 {
        hocon(&args, common, &url, &timeout, tls)
    } else {
        properties(&args, common, &url, &timeout, tls)
    };
    print!("{text}");
    exit::OK
}

fn hocon(args: &Args, common: &Common, url: &str, timeout: &str, tls: bool) -> String {
    let mut text = format!(
        "# EMQX 5 (emqx.conf): calls the provider on emqx.exhook.v2 (5.0-5.8) or v3 (5.9+)\n\
         exhook.servers = [\n  {{\n    name = \"{}\"\n    enable = true\n    url = \"{url}\"\n    request_timeout = \"{timeout}\"\n    \
         failed_action = \"{}\"\n    auto_reconnect = \"60s\"\n    pool_size = {}\n",
        args.name, args.failed_action, args.pool_size
    );
    if tls {
        text.push_str("    ssl {\n      enable = true\n      verify = verify_peer\n");
        if let Some(ca) = &common.cacert {
            text.push_str(&format!("      cacertfile = \"{}\"\n", ca.display()));
        }
        if let (Some(cert), Some(key)) = (&common.cert, &common.key) {
            text.push_str(&format!(
                "      certfile = \"{}\"\n      keyfile = \"{}\"\n",
                cert.display(),
                key.display()
            ));
        }
        if let Some(name) = &common.server_name {
            text.push_str(&format!("      server_name_indication = \"{name}\"\n"));
        }
        text.push_str("    }\n");
    }
    text.push_str("  }\n]\n");
    text
}

fn properties(args: &Args, common: &Common, url: &str, timeout: &str, tls: bool) -> String {
    let name = &args.name;
    // EMQX 4 sets timeout, failed action and pool size for all servers.
    let mut text = format!(
        "## EMQX 4.3 / 4.4 (etc/plugins/emqx_exhook.conf), then: emqx_ctl plugins load emqx_exhook\n\
         exhook.request_failed_action = {}\nexhook.request_timeout = {timeout}\nexhook.auto_reconnect = 60s\n\
         exhook.pool_size = {}\nexhook.server.{name}.url = {url}\n",
        args.failed_action, args.pool_size
    );
    if tls {
        if let Some(ca) = &common.cacert {
            text.push_str(&format!(
                "exhook.server.{name}.ssl.cacertfile = {}\n",
                ca.display()
            ));
        }
        if let (Some(cert), Some(key)) = (&common.cert, &common.key) {
            text.push_str(&format!(
                "exhook.server.{name}.ssl.certfile = {}\nexhook.server.{name}.ssl.keyfile = {}\n",
                cert.display(),
                key.display()
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_a_port_and_an_http_scheme() {
        assert_eq!(
            check_url("http://exhook:9000/x", false).unwrap(),
            "http://exhook:9000"
        );
        assert_eq!(
            check_url("http://exhook:9000", true).unwrap(),
            "https://exhook:9000"
        );
        assert!(
            check_url("http://exhook", false)
                .unwrap_err()
                .contains("explicit port")
        );
        assert!(check_url("grpc://exhook:9000", false).is_err());
    }

    #[test]
    fn names_follow_emqx_rules() {
        assert!(valid_name("rust-provider_1"));
        assert!(!valid_name("-x") && !valid_name("") && !valid_name("a b"));
    }
}
