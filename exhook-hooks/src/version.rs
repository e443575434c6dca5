//! The protocol generations.

use std::fmt;

/// The ExHook protocol generation a call arrived on.
///
/// One provider serves all three on one port: EMQX picks its package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// `emqx.exhook.v1`: EMQX 4.3 and 4.4.
    V1,
    /// `emqx.exhook.v2`: EMQX 5.0 to 5.8.
    V2,
    /// `emqx.exhook.v3`: EMQX 5.9 and later.
    V3,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 3] = [Version::V1, Version::V2, Version::V3];

    /// The gRPC service name, such as `emqx.exhook.v3.HookProvider`.
    pub const fn service_name(self) -> &'static str {
        match self {
            Version::V1 => "emqx.exhook.v1.HookProvider",
            Version::V2 => "emqx.exhook.v2.HookProvider",
            Version::V3 => "emqx.exhook.v3.HookProvider",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
            Version::V3 => "v3",
        })
    }
}
