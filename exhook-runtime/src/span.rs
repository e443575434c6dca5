//! What a call's tracing span records: the client and the topic, never
//! the password.

use crate::hooks::{HookPoint, HookRequest};
use crate::version::Version;

/// The call's span: hook, protocol, client and first topic.
pub(crate) fn call_span<H: HookPoint>(version: Version, request: &H::Request) -> tracing::Span {
    if !tracing::enabled!(target: "exhook", tracing::Level::DEBUG) {
        return tracing::Span::none();
    }
    let mut topic = "";
    request.topics(&mut |first| {
        if topic.is_empty() {
            topic = first;
        }
    });
    tracing::debug_span!(
        target: "exhook",
        "hook",
        hook = H::HOOK.name(Version::V3),
        version = %version,
        clientid = request.clientid(),
        topic,
    )
}
