//! What the example applications' tests share: the application started as
//! a process ([`Process`]), temporary folders ([`TempDir`]), and v3 requests
//! as EMQX 5.9 sends them.

#![warn(missing_docs)]

mod process;

use exhook_runtime::proto::v3;
pub use process::{Process, port_of, without_inherited_exhook_variables};

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// A new, empty directory whose name starts with `exhook-{name}`.
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("exhook-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// `name` inside the directory.
    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The value of `variable`, which names a real server a test needs and
/// which `.ci/run` sets after starting it. Such tests are `#[ignore]`d, so
/// this runs only when they are asked for: a missing variable then fails
/// the test instead of letting it pass unchecked.
pub fn real_server(variable: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{variable} is not set; `.ci/run` starts the server and sets it"))
}

/// A request's `meta` as a 5.9 node of `cluster` sends it.
pub fn meta_v3(cluster: &str) -> v3::RequestMeta {
    v3::RequestMeta {
        node: "emqx@127.0.0.1".into(),
        version: "5.9.0".into(),
        sysdescr: "EMQX".into(),
        cluster_name: cluster.into(),
    }
}

/// `OnProviderLoaded` as a 5.9 node of `cluster` sends it.
pub fn loaded_v3(cluster: &str) -> v3::ProviderLoadedRequest {
    v3::ProviderLoadedRequest {
        broker: Some(v3::BrokerInfo {
            version: "5.9.0".into(),
            sysdescr: "EMQX".into(),
            uptime: 12_345,
            datetime: "2026-11-25T18:00:00.000000000+00:00".into(),
        }),
        meta: Some(meta_v3(cluster)),
    }
}

/// A client on loopback with password `secret`.
pub fn client_v3(clientid: &str, username: &str) -> v3::ClientInfo {
    v3::ClientInfo {
        node: "emqx@127.0.0.1".into(),
        clientid: clientid.into(),
        username: username.into(),
        password: "secret".into(),
        peerhost: "127.0.0.1".into(),
        sockport: 1883,
        protocol: "mqtt".into(),
        anonymous: false,
        peerport: 50_000,
        ..Default::default()
    }
}

/// A QoS 1 message from client `from`.
pub fn message_v3(from: &str, topic: &str, payload: &str) -> v3::Message {
    v3::Message {
        node: "emqx@127.0.0.1".into(),
        id: "0006153B6E3E2E2AF4420000D5E90001".into(),
        qos: 1,
        from: from.into(),
        topic: topic.into(),
        payload: payload.as_bytes().to_vec().into(),
        timestamp: 1_764_000_000_000,
        headers: [
            ("username".to_owned(), from.to_owned()),
            ("protocol".to_owned(), "mqtt".to_owned()),
            ("peerhost".to_owned(), "127.0.0.1".to_owned()),
        ]
        .into_iter()
        .collect(),
    }
}

/// `(type, value)` of a valued response, with the type as EMQX names it.
pub fn valued(response: v3::ValuedResponse) -> (&'static str, Option<v3::valued_response::Value>) {
    let kind = match v3::valued_response::ResponsedType::try_from(response.r#type) {
        Ok(v3::valued_response::ResponsedType::Continue) => "CONTINUE",
        Ok(v3::valued_response::ResponsedType::Ignore) => "IGNORE",
        Ok(v3::valued_response::ResponsedType::StopAndReturn) => "STOP_AND_RETURN",
        Err(_) => "UNKNOWN",
    };
    (kind, response.value)
}
