#!/usr/bin/env python3
"""Build time of a provider with 50 handlers: written with exhook's macros,
and the same provider written by hand on tonic's generated trait.

    python3 bench/compile-cost/run.py [rounds]

Generates both crates under target/compile-cost/, builds their dependencies
once, then times rebuilding each crate alone (debug and release), median of
several rounds.
"""
import os, shutil, statistics, subprocess, sys, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "target", "compile-cost")
HOOKS = ["client_connected", "client_disconnected", "client_authenticate", "client_authorize",
         "session_created", "message_publish", "message_delivered", "message_acked", "session_terminated", "client_connect"]
N = 50

def macro_crate():
    lines = ["use exhook_runtime::*;", ""]
    names = []
    for i in range(N):
        hook = HOOKS[i % len(HOOKS)]
        name = f"h{i}"
        names.append(name)
        if hook in ("client_authenticate", "client_authorize"):
            lines += [f"#[on_{hook}]", f"async fn {name}(client: &ClientInfo) -> Decision {{",
                      f"    if client.username == \"u{i}\" {{ Decision::Allow }} else {{ Decision::Ignore }}", "}"]
        elif hook == "message_publish":
            lines += [f"#[on_message_publish(topic = \"t/{i}/#\")]", f"async fn {name}(msg: Message) -> Publish {{",
                      "    Publish::Continue(msg)", "}"]
        else:
            lines += [f"#[on_{hook}]", f"async fn {name}() {{}}"]
    lines += ["", "#[tokio::main]", "async fn main() -> Result<(), Error> {",
              f"    Server::new(provider![{', '.join(names)}]).serve().await", "}"]
    toml = f"""[package]
name = "fifty-macros"
version = "0.0.0"
edition = "2024"

[dependencies]
exhook-runtime = {{ path = "{ROOT}/exhook-runtime" }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}

[workspace]
"""
    return toml, "\n".join(lines) + "\n"

def hand_crate():
    by_hook = {h: [] for h in HOOKS}
    fns = []
    for i in range(N):
        hook = HOOKS[i % len(HOOKS)]
        by_hook[hook].append(i)
        if hook in ("client_authenticate", "client_authorize"):
            req = "ClientAuthenticateRequest" if hook == "client_authenticate" else "ClientAuthorizeRequest"
            fns += [f"async fn h{i}(r: &{req}) -> Option<bool> {{",
                    f"    (r.clientinfo.as_ref().map(|c| c.username.as_str()) == Some(\"u{i}\")).then_some(true)", "}"]
        elif hook == "message_publish":
            fns += [f"async fn h{i}(m: &mut Message) -> bool {{",
                    f"    m.topic == \"t/{i}\" || m.topic.starts_with(\"t/{i}/\")", "}"]
        else:
            fns += [f"async fn h{i}() {{}}"]
    methods = []
    request_of = {"client_connected": "ClientConnectedRequest", "client_disconnected": "ClientDisconnectedRequest",
                  "session_created": "SessionCreatedRequest", "message_delivered": "MessageDeliveredRequest",
                  "message_acked": "MessageAckedRequest", "session_terminated": "SessionTerminatedRequest",
                  "client_connect": "ClientConnectRequest"}
    for hook, req in request_of.items():
        calls = "".join(f"        h{i}().await;\n" for i in by_hook[hook])
        methods.append(f"    async fn on_{hook}(&self, _: Request<{req}>) -> Result<Response<EmptySuccess>, Status> {{\n{calls}        Ok(Response::new(EmptySuccess {{}}))\n    }}")
    for hook, req in (("client_authenticate", "ClientAuthenticateRequest"), ("client_authorize", "ClientAuthorizeRequest")):
        calls = "".join(f"        if let Some(v) = h{i}(&r).await {{ return Ok(Response::new(ValuedResponse {{ r#type: 2, value: Some(Value::BoolResult(v)) }})); }}\n" for i in by_hook[hook])
        methods.append(f"    async fn on_{hook}(&self, r: Request<{req}>) -> Result<Response<ValuedResponse>, Status> {{\n        let r = r.into_inner();\n{calls}        Ok(Response::new(ValuedResponse {{ r#type: 1, value: None }}))\n    }}")
    calls = "".join(f"        if h{i}(&mut m).await {{ return Ok(Response::new(ValuedResponse {{ r#type: 0, value: Some(Value::Message(m)) }})); }}\n" for i in by_hook["message_publish"])
    methods.append(f"    async fn on_message_publish(&self, r: Request<MessagePublishRequest>) -> Result<Response<ValuedResponse>, Status> {{\n        let mut m = r.into_inner().message.unwrap_or_default();\n{calls}        Ok(Response::new(ValuedResponse {{ r#type: 1, value: None }}))\n    }}")
    rest = {"provider_unloaded": "ProviderUnloadedRequest", "client_connack": "ClientConnackRequest",
            "client_subscribe": "ClientSubscribeRequest", "client_unsubscribe": "ClientUnsubscribeRequest",
            "session_subscribed": "SessionSubscribedRequest", "session_unsubscribed": "SessionUnsubscribedRequest",
            "session_resumed": "SessionResumedRequest", "session_discarded": "SessionDiscardedRequest",
            "session_takenover": "SessionTakenoverRequest", "message_dropped": "MessageDroppedRequest"}
    for hook, req in rest.items():
        methods.append(f"    async fn on_{hook}(&self, _: Request<{req}>) -> Result<Response<EmptySuccess>, Status> {{ Ok(Response::new(EmptySuccess {{}})) }}")
    loaded = ", ".join(f"HookSpec {{ name: \"{h.replace('_', '.', 1)}\".into(), topics: vec![] }}" for h in HOOKS)
    methods.append(f"    async fn on_provider_loaded(&self, _: Request<ProviderLoadedRequest>) -> Result<Response<LoadedResponse>, Status> {{\n        Ok(Response::new(LoadedResponse {{ hooks: vec![{loaded}] }}))\n    }}")
    src = "\n".join([
        "#[allow(clippy::all)]", "mod proto {", f'    include!("{ROOT}/bench/src/generated/emqx.exhook.v3.rs");', "}",
        "use proto::hook_provider_server::{HookProvider, HookProviderServer};", "use proto::valued_response::Value;", "use proto::*;",
        "use tonic::{Request, Response, Status};", "", *fns, "", "struct Hand;", "", "#[tonic::async_trait]",
        "impl HookProvider for Hand {", *methods, "}", "",
        "#[tokio::main]", "async fn main() -> Result<(), Box<dyn std::error::Error>> {",
        "    tonic::transport::Server::builder().add_service(HookProviderServer::new(Hand)).serve(\"127.0.0.1:9000\".parse()?).await?;",
        "    Ok(())", "}"])
    toml = """[package]
name = "fifty-hand"
version = "0.0.0"
edition = "2024"

[dependencies]
prost = "0.14"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
tonic = { version = "0.14", features = ["transport", "codegen", "router", "server"] }
tonic-prost = "0.14"

[workspace]
"""
    return toml, src + "\n"

def write(name, toml, src):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.join(path, "src"), exist_ok=True)
    open(os.path.join(path, "Cargo.toml"), "w").write(toml)
    open(os.path.join(path, "src", "main.rs"), "w").write(src)
    return path

def build(path, release):
    args = ["cargo", "build", "-q"] + (["--release"] if release else [])
    subprocess.run(args, cwd=path, check=True, env={**os.environ, "CARGO_TARGET_DIR": os.path.join(OUT, "target")})

def timed(path, release):
    os.utime(os.path.join(path, "src", "main.rs"))
    started = time.monotonic()
    build(path, release)
    return time.monotonic() - started

def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    crates = {"exhook macros": write("fifty-macros", *macro_crate()), "hand-written tonic": write("fifty-hand", *hand_crate())}
    for path in crates.values():
        build(path, False)
        build(path, True)
    print(f"build of the provider crate alone (dependencies built), median of {rounds}")
    print("| crate (50 handlers) | debug | release |")
    print("|---|---|---|")
    for name, path in crates.items():
        debug = statistics.median(timed(path, False) for _ in range(rounds))
        release = statistics.median(timed(path, True) for _ in range(rounds))
        print(f"| {name} | {debug:.2f} s | {release:.2f} s |")

if __name__ == "__main__":
    main()
