//! Writes the handler with 10,000 topic filters that `benches/hot_path.rs`
//! dispatches through (too long to keep as source).

use std::fmt::Write;

fn main() {
    let mut filters = String::new();
    for i in 0..10_000 {
        let filter = match i % 4 {
            0 => format!("fleet/{i}/#"),
            1 => format!("devices/{i}/+/status"),
            2 => format!("alarms/zone-{i}"),
            _ => format!("sensors/building-{i}/+/#"),
        };
        let _ = write!(filters, "{filter:?}, ");
    }
    let source = format!(
        "#[exhook_runtime::on_message_publish(topic = [\"sensors/building-7/#\", {filters}])]\n\
         pub(crate) async fn many(msg: exhook_runtime::Message) -> exhook_runtime::Publish {{\n    exhook_runtime::Publish::Continue(msg)\n}}\n"
    );
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("many_filters.rs"), source).expect("write");
    println!("cargo::rerun-if-changed=build.rs");
}
