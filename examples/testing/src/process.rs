//! A provider running as its own process, as a user starts it.

use std::ffi::OsString;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use exhook_runtime::proto::v3::hook_provider_client::HookProviderClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic::transport::Channel;

/// The provider process; killed if a test fails before it exits.
pub struct Process {
    child: Option<Child>,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    port: u16,
}

impl Process {
    /// Starts `command` listening on an ephemeral loopback port (unless its
    /// environment says otherwise); returns it with the lines it printed
    /// on stderr up to and including the `serving …` line.
    ///
    /// The process gets none of the test's own `EXHOOK_*` variables (see
    /// [`without_inherited_exhook_variables`]), only those `command` sets.
    pub async fn start(mut command: Command) -> (Process, Vec<String>) {
        without_inherited_exhook_variables(&mut command);
        if !command
            .get_envs()
            .any(|(name, value)| name == "EXHOOK_LISTEN" && value.is_some())
        {
            command.env("EXHOOK_LISTEN", "127.0.0.1:0");
        }
        command
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        let mut process = Process {
            child: Some(command.spawn().expect("start the provider")),
            lines,
            port: 0,
        };
        let stderr = process
            .child
            .as_mut()
            .and_then(|child| child.stderr.take())
            .unwrap();
        let stderr = tokio::process::ChildStderr::from_std(stderr).unwrap();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(60), process.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("no `serving` line within 60 s: {seen:?}"))
                .unwrap_or_else(|| panic!("provider exited: {seen:?}"));
            seen.push(line.clone());
            if line.contains("serving emqx.exhook") {
                process.port = port_of(&line, "127.0.0.1:");
                return (process, seen);
            }
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// The port it serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A v3 client, as EMQX 5.9 connects.
    pub async fn v3(&self) -> HookProviderClient<Channel> {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .connect()
            .await
            .expect("connect to the provider process");
        HookProviderClient::new(channel)
    }

    /// Sends `signal` (`TERM`, `HUP`, …) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Lines printed since the last look.
    pub fn new_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.try_recv() {
            lines.push(line);
        }
        lines
    }

    /// Waits for the next line containing `text`, for up to 10 s.
    pub async fn wait_for_line(&mut self, text: &str) -> String {
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.lines.recv()).await {
                Ok(Some(line)) if line.contains(text) => return line,
                Ok(Some(line)) => seen.push(line),
                Ok(None) => panic!("exited before printing {text:?}: {seen:?}"),
                Err(_) => panic!("no line with {text:?} within 10 s: {seen:?}"),
            }
        }
    }

    /// Waits for the process to exit; its status and the lines it printed
    /// since the last look.
    pub async fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        // The reader may still be forwarding the last lines.
        let mut rest = Vec::new();
        while let Ok(Some(line)) =
            tokio::time::timeout(Duration::from_secs(2), self.lines.recv()).await
        {
            rest.push(line);
        }
        (status, rest)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Keeps the `EXHOOK_*` variables of the test's own environment (a
/// developer's `EXHOOK_TLS_CERT`, say) from `command`, except those it sets
/// itself, so that the shell a test runs in cannot change what it starts.
pub fn without_inherited_exhook_variables(command: &mut Command) -> &mut Command {
    let given: Vec<OsString> = command
        .get_envs()
        .map(|(name, _)| name.to_owned())
        .collect();
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EXHOOK_") && !given.contains(&name) {
            command.env_remove(name);
        }
    }
    command
}

/// The port number printed in `line` right after `after`.
pub fn port_of(line: &str, after: &str) -> u16 {
    let rest = &line[line
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} in {line:?}"))
        + after.len()..];
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}
