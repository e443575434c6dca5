//! The configuration, from environment variables.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use exhook_runtime::TopicFilter;

use crate::buffer::WhenFull;
use crate::forwarder::Options;
use crate::sink;

/// Where settings are read from: the process environment, or a map in tests.
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        Env {
            vars: std::env::vars().collect(),
        }
    }

    /// Just these variables.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        Env {
            vars: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The variable's value, if set and not empty.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// The variable's value, or `default`.
    pub fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    /// The variable as a number, or `default`; an error names the variable.
    pub fn number<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{name}={v:?}: a number is needed")),
        }
    }

    /// The variable as milliseconds, or `default`.
    pub fn millis(&self, name: &str, default: Duration) -> Result<Duration, String> {
        self.number(name, default.as_millis() as u64)
            .map(Duration::from_millis)
    }
}

/// Everything `main` needs.
pub struct Config {
    /// `BRIDGE_TOPICS`.
    pub topics: Vec<TopicFilter>,
    /// The buffer's and forwarder's settings.
    pub options: Options,
    /// How long to wait, on SIGTERM, for the buffer to empty.
    pub drain: Duration,
    /// Where to serve `/metrics`, if anywhere.
    pub metrics_listen: Option<String>,
    /// `BRIDGE_SINK` and its variables.
    pub sink: sink::Settings,
}

impl Config {
    /// Reads every `BRIDGE_*` variable; an error names the variable at fault.
    pub fn from_env(env: &Env) -> Result<Config, String> {
        let defaults = Options::default();
        let when_full = match env.or("BRIDGE_WHEN_FULL", "block").as_str() {
            "block" => WhenFull::Block,
            "drop" => WhenFull::Drop,
            other => return Err(format!("BRIDGE_WHEN_FULL={other:?}: `block` or `drop`")),
        };
        let options = Options {
            buffer: positive(env, "BRIDGE_BUFFER", defaults.buffer)?,
            when_full,
            batch: positive(env, "BRIDGE_BATCH", defaults.batch)?,
            send_timeout: env.millis("BRIDGE_SEND_TIMEOUT_MS", defaults.send_timeout)?,
            ..defaults
        };
        Ok(Config {
            topics: parse_topics(&env.or("BRIDGE_TOPICS", "sensors/#"))?,
            options,
            drain: env.millis("BRIDGE_DRAIN_MS", crate::DEFAULT_DRAIN)?,
            metrics_listen: env.get("BRIDGE_METRICS_LISTEN"),
            sink: sink::Settings::from_env(env)?,
        })
    }
}

fn positive(env: &Env, name: &str, default: usize) -> Result<usize, String> {
    match env.number(name, default)? {
        0 => Err(format!("{name}=0: a positive number is needed")),
        n => Ok(n),
    }
}

/// `a/#,b/+` as filters.
pub fn parse_topics(list: &str) -> Result<Vec<TopicFilter>, String> {
    list.split(',')
        .map(str::trim)
        .map(|f| TopicFilter::new(f).map_err(|e| format!("topic filter {f:?}: {e}")))
        .collect()
}
