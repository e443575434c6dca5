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
//! let authorize = Hook::ClientAuthorize;
//! assert_eq!(authorize.name(Version::V1), "client.check_acl");
//! assert_eq!(authorize.rpc(Version::V1), "OnClientCheckAcl");
//! assert_eq!(authorize.rpc(Version::V3), "OnClientAuthorize");
//! assert_eq!(authorize.answer(), Answer::Decide);
//! assert_eq!(Hook::from_attribute("on_client_authorize"), Some(authorize));
//! ```

mod hook;
mod set;
mod table;
mod version;

pub use hook::{Answer, Hook, HookRow, TopicSource, Wire};
pub use set::HookSet;
pub use version::Version;
