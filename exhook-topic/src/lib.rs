//! MQTT topic filters exactly as EMQX validates and matches them.
//!
//! This crate is the single implementation behind `exhook`'s `topic = "…"`
//! attribute option (checked at compile time by `exhook-macros`) and behind
//! `exhook_runtime::TopicFilter` (used at run time). It has no dependencies.
//!
//! * [`validate`] applies MQTT 5.0 §4.7 / §4.8 and EMQX's `emqx_topic:validate/1`.
//! * [`matches()`] is EMQX's `emqx_topic:match/2`.
//! * [`FilterIndex`] matches one topic against many filters without trying each.
//! * [`subscription_topic`] strips `$share/<group>/`, `$queue/` and `$exclusive/`.
//! * [`hook_policy`] says which valid filters make no sense on an ExHook hook.
//!
//! ```
//! use exhook_topic::{matches, validate};
//!
//! assert!(validate("sensors/+/temp").is_ok());
//! assert!(validate("sensors/#/temp").is_err());
//! assert!(matches("sensors/#", "sensors"));
//! assert!(!matches("#", "$SYS/brokers"));
//! ```

#![warn(missing_docs)]

mod error;
mod index;
mod matching;
mod policy;
mod validate;

pub use error::{FilterError, FilterErrorKind};
pub use index::FilterIndex;
pub use matching::matches;
pub use policy::{HookPolicy, hook_policy};
pub use validate::{MAX_FILTER_LEN, subscription_topic, validate};
