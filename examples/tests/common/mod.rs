//! The example programs as a user runs them: the binaries `cargo test`
//! builds from this package's examples, started as processes and called
//! over gRPC.

use std::path::Path;
use std::process::Command;

use exhook_app_testing::Process;
use exhook_runtime::proto::{v1, v2};
use exhook_runtime::tonic::transport::Channel;

/// The program `cargo run --example NAME` runs, at its default log level
/// whatever `RUST_LOG` the test's shell sets.
///
/// `cargo test -p exhook-examples` builds the examples before it runs
/// these tests; `--test NAME` alone does not, so a program that is missing,
/// or older than its source file, fails the test instead of testing an old
/// build.
pub(crate) fn example(name: &str) -> Command {
    // This test is `target/<profile>/deps/<test>-<hash>`; cargo puts the
    // examples in `target/<profile>/examples/`.
    let test = std::env::current_exe().expect("the test's own path");
    let program = test
        .parent()
        .and_then(Path::parent)
        .expect("the test lives in target/<profile>/deps")
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified());
    let build = "`cargo test -p exhook-examples` builds it (`--test NAME` alone does not)";
    let built =
        modified(&program).unwrap_or_else(|_| panic!("{} is missing: {build}", program.display()));
    // Its own file, and the package's library (the demo's handlers).
    let library = std::fs::read_dir(package.join("src")).expect("the package's src/");
    let sources = library
        .map(|entry| entry.expect("a file in src/").path())
        .chain([package.join(format!("{name}.rs"))]);
    for source in sources {
        assert!(
            modified(&source).unwrap() <= built,
            "{} is older than {}: {build}",
            program.display(),
            source.display()
        );
    }
    let mut command = Command::new(program);
    command.env_remove("RUST_LOG");
    command
}

fn address(process: &Process) -> String {
    format!("http://127.0.0.1:{}", process.port())
}

/// A v1 client, as EMQX 4.4 connects.
pub(crate) async fn v1(process: &Process) -> v1::hook_provider_client::HookProviderClient<Channel> {
    v1::hook_provider_client::HookProviderClient::connect(address(process))
        .await
        .expect("connect to the example")
}

/// A v2 client, as EMQX 5.0 to 5.8 connect.
pub(crate) async fn v2(process: &Process) -> v2::hook_provider_client::HookProviderClient<Channel> {
    v2::hook_provider_client::HookProviderClient::connect(address(process))
        .await
        .expect("connect to the example")
}
