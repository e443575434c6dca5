//! The hook points of EMQX's ExHook protocol, in one table.
//!
//! Each hook point is one row of [`hook_table!`]: its handler attribute,
//! EMQX's names for it in every protocol generation, its request, the kind
//! of answer, where its topic comes from and which parts of the request a
//! handler can take. `exhook-macros` derives the attributes and their
//! diagnostics from the table; `exhook-runtime` derives the gRPC routing,
//! span fields, topic extraction and handler arguments. Use it through
//! `exhook-runtime`, which re-exports [`Hook`], [`HookSet`] and [`Version`].
//!
//! ```
//! use exhook_hooks::{Answer, Hook, Version};
//!
//! // EMQX 4 spells two hook points differently.
//! let renamed: Vec<Hook> = Hook::ALL
//!     .into_iter()
//!     .filter(|hook| hook.name(Version::V1) != hook.name(Version::V3))
//!     .collect();
//! assert_eq!(renamed.len(), 2);
//! for hook in renamed {
//!     assert_ne!(hook.rpc(Version::V1), hook.rpc(Version::V3));
//!     assert_eq!(Hook::from_rpc(Version::V1, hook.rpc(Version::V1)), Some(hook));
//!     assert_eq!(Hook::from_attribute(hook.attribute()), Some(hook));
//! }
//! let decisions = Hook::ALL.iter().filter(|hook| hook.answer() == Answer::Decide);
//! assert_eq!(decisions.count(), 2);
//! ```

#![warn(missing_docs)]

mod hook;
mod set;
mod table;
mod version;

pub use hook::{Answer, Hook, HookRow, TopicSource, WireLayout};
pub use set::HookSet;
pub use version::Version;
