//! ACL rules: parsed from TOML, checked in order, first match wins.

use std::path::{Path, PathBuf};

use exhook_runtime::event::AuthorizeAction;
use exhook_runtime::{TopicFilter, TopicFilterError};
use serde::Deserialize;

/// Why a rules text was refused.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not TOML, or not the shape of a rules file.
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    /// A rule without topics.
    #[error("rule {rule}: `topics` is empty")]
    NoTopics {
        /// The rule's number, from 1.
        rule: usize,
    },
    /// A topic filter breaks MQTT's rules.
    #[error("rule {rule}: topic {topic:?}: {source}")]
    Topic {
        /// The rule's number, from 1.
        rule: usize,
        /// The filter as written.
        topic: String,
        /// What is wrong with it.
        source: TopicFilterError,
    },
}

/// Why a rules file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was refused.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ParseError,
    },
}

/// What a matching rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Let the request through.
    Allow,
    /// Refuse it.
    Deny,
}

/// Which requests a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Publish,
    Subscribe,
    All,
}

impl Action {
    fn covers(self, action: AuthorizeAction) -> bool {
        matches!(
            (self, action),
            (Action::All, _)
                | (Action::Publish, AuthorizeAction::Publish)
                | (Action::Subscribe, AuthorizeAction::Subscribe)
        )
    }
}

/// One rule as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    permission: Permission,
    action: Action,
    topics: Vec<String>,
    username: Option<String>,
    clientid: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

/// One checked rule.
#[derive(Debug, Clone)]
struct Rule {
    permission: Permission,
    action: Action,
    topics: Vec<Pattern>,
    username: Option<String>,
    clientid: Option<String>,
}

/// A topic filter that may contain `${username}` and `${clientid}`.
#[derive(Debug, Clone)]
enum Pattern {
    /// No placeholder: checked once, when the file is read.
    Fixed(TopicFilter),
    /// Filled in per request, then matched.
    Template(String),
}

const PLACEHOLDERS: [&str; 2] = ["${username}", "${clientid}"];

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, TopicFilterError> {
        if PLACEHOLDERS.iter().any(|p| text.contains(p)) {
            // Check the shape with a harmless value in each placeholder.
            let sample = PLACEHOLDERS
                .iter()
                .fold(text.to_owned(), |t, p| t.replace(p, "x"));
            TopicFilter::new(sample)?;
            Ok(Pattern::Template(text.to_owned()))
        } else {
            TopicFilter::new(text).map(Pattern::Fixed)
        }
    }

    fn matches(&self, topic: &str, username: &str, clientid: &str) -> bool {
        match self {
            Pattern::Fixed(filter) => filter.matches(topic),
            Pattern::Template(template) => {
                // A name with a wildcard or a level separator would widen the
                // filter beyond the client's own subtree: such a rule does
                // not apply to that client.
                let unsafe_name = |name: &str| name.is_empty() || name.contains(['+', '#', '/']);
                if (template.contains("${username}") && unsafe_name(username))
                    || (template.contains("${clientid}") && unsafe_name(clientid))
                {
                    return false;
                }
                let filled = template
                    .replace("${username}", username)
                    .replace("${clientid}", clientid);
                TopicFilter::new(filled).is_ok_and(|filter| filter.matches(topic))
            }
        }
    }
}

/// The rules of one file, in order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Parses and checks a rules file; the error names the rule and what is
    /// wrong with it.
    pub fn parse(text: &str) -> Result<Rules, ParseError> {
        let file: RawFile = toml::from_str(text)?;
        let mut rules = Vec::with_capacity(file.rules.len());
        for (n, raw) in file.rules.into_iter().enumerate() {
            let rule = n + 1;
            if raw.topics.is_empty() {
                return Err(ParseError::NoTopics { rule });
            }
            let topics = raw
                .topics
                .iter()
                .map(|topic| {
                    Pattern::parse(topic).map_err(|source| ParseError::Topic {
                        rule,
                        topic: topic.clone(),
                        source,
                    })
                })
                .collect::<Result<_, _>>()?;
            rules.push(Rule {
                permission: raw.permission,
                action: raw.action,
                topics,
                username: raw.username,
                clientid: raw.clientid,
            });
        }
        Ok(Rules { rules })
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Rules, LoadError> {
        let path = path.to_owned();
        match std::fs::read_to_string(&path) {
            Err(source) => Err(LoadError::Read { path, source }),
            Ok(text) => Rules::parse(&text).map_err(|source| LoadError::Parse { path, source }),
        }
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules (every request is then ignored).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The permission of the first rule that matches; `None` when none does.
    pub fn check(
        &self,
        username: &str,
        clientid: &str,
        action: AuthorizeAction,
        topic: &str,
    ) -> Option<Permission> {
        self.rules
            .iter()
            .find(|rule| {
                rule.action.covers(action)
                    && rule.username.as_deref().is_none_or(|u| u == username)
                    && rule.clientid.as_deref().is_none_or(|c| c == clientid)
                    && rule
                        .topics
                        .iter()
                        .any(|pattern| pattern.matches(topic, username, clientid))
            })
            .map(|rule| rule.permission)
    }
}
