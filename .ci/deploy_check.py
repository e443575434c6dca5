#!/usr/bin/env python3
"""Checks the deployment files against each other and against a running provider.

* Dockerfile: parsed; a build stage and a minimal runtime stage, non-root user,
  port 9000 on 0.0.0.0, an exec-form entrypoint, a HEALTHCHECK with `exhook probe`.
* deploy/kubernetes: every document validated against Kubernetes' schemas
  (kubernetes-validate, strict); probes, Service ports and scrape annotations
  point at the ports the provider is configured to serve, grace period above
  the drain time.
* A provider started with the Deployment's environment (on loopback) answers
  the probes on those ports, and its /metrics has every series and label the
  Grafana dashboard queries.

Usage: deploy_check.py PROVIDER_BINARY EXHOOK_BINARY
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import kubernetes_validate
import yaml
from dockerfile_parse import DockerfileParser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KUBERNETES = "1.30.0"
passed = 0
failed = 0


def check(condition, what):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def source(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def dockerfile():
    parser = DockerfileParser(path=os.path.join(ROOT, "Dockerfile"))
    stages = []
    for item in parser.structure:
        if item["instruction"] == "FROM":
            stages.append({"from": item["value"], "items": []})
        elif stages:
            stages[-1]["items"].append(item)
    check(len(stages) >= 2, "Dockerfile: a build stage and a runtime stage")
    build, runtime = stages[0], stages[-1]
    check(re.match(r"rust:\S+ AS build$", build["from"]) is not None, f"Dockerfile: build stage from rust: {build['from']}")
    check("distroless" in runtime["from"] or "slim" in runtime["from"], f"Dockerfile: minimal runtime image: {runtime['from']}")

    def values(stage, instruction):
        return [i["value"] for i in stage["items"] if i["instruction"] == instruction]

    args = " ".join(values(build, "ARG"))
    for arg in ("PACKAGE", "KIND", "APP"):
        check(re.search(rf"\b{arg}=", args) is not None, f"Dockerfile: build-arg {arg} chooses what to build")
    run = " ".join(values(build, "RUN"))
    check("cargo build --release --locked" in run, "Dockerfile: a locked release build")
    check('-p "$PACKAGE" --"$KIND" "$APP"' in run and "-p exhook-cli --bin exhook" in run, "Dockerfile: builds the app and exhook")
    default_app = re.search(r"APP=(\S+)", args).group(1)
    check(f'name = "{default_app}"' in source("examples/Cargo.toml"), f"Dockerfile: default APP {default_app} is an example")
    check('name = "exhook"' in source("exhook-cli/Cargo.toml"), "Dockerfile: exhook-cli has the exhook binary")

    users = values(runtime, "USER")
    check(len(users) == 1 and users[0].split(":")[0] not in ("root", "0"), f"Dockerfile: runtime user is not root: {users}")
    env = " ".join(values(runtime, "ENV"))
    listen = re.search(r"EXHOOK_LISTEN=(\S+)", env)
    check(listen is not None and listen.group(1) == "0.0.0.0:9000", "Dockerfile: EXHOOK_LISTEN=0.0.0.0:9000")
    metrics = re.search(r"EXHOOK_METRICS_LISTEN=(\S+)", env)
    exposed = " ".join(values(runtime, "EXPOSE")).split()
    check("9000" in exposed, "Dockerfile: EXPOSE 9000")
    check(metrics is not None and str(port_of(metrics.group(1))) in exposed, "Dockerfile: the metrics port is exposed")
    healthcheck = " ".join(values(runtime, "HEALTHCHECK"))
    check("exhook" in healthcheck and "probe" in healthcheck and "http://127.0.0.1:9000" in healthcheck,
          f"Dockerfile: HEALTHCHECK probes the listen port with exhook: {healthcheck}")
    entrypoint = values(runtime, "ENTRYPOINT")
    check(len(entrypoint) == 1 and json.loads(entrypoint[0])[0] == "/usr/local/bin/provider", "Dockerfile: exec-form ENTRYPOINT")
    copies = " ".join(values(runtime, "COPY"))
    check("--from=build /out/provider" in copies and "--from=build /out/exhook" in copies, "Dockerfile: copies both binaries")
    return int(users[0].split(":")[0])


def manifests():
    folder = os.path.join(ROOT, "deploy", "kubernetes")
    docs = {}
    kustomization = yaml.safe_load(source("deploy/kubernetes/kustomization.yaml"))
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all(source(f"deploy/kubernetes/{name}")):
            try:
                kubernetes_validate.validate(doc, KUBERNETES, strict=True)
                check(True, "")
            except kubernetes_validate.ValidationError as error:
                check(False, f"{name}: {doc['kind']}: {error.message} at {list(error.path)}")
            docs[doc["kind"]] = doc
    listed = set(kustomization["resources"])
    on_disk = {f for f in os.listdir(folder) if f.endswith(".yaml") and f != "kustomization.yaml"}
    check(listed == on_disk, f"kustomization lists every manifest: {listed} vs {on_disk}")
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        check(kind in docs, f"manifests: a {kind}")
    return docs


def deployment_ports(docs, dockerfile_user):
    deployment, service, pdb = docs["Deployment"], docs["Service"], docs["PodDisruptionBudget"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    listen, metrics = port_of(env["EXHOOK_LISTEN"]), port_of(env["EXHOOK_METRICS_LISTEN"])
    check(env["EXHOOK_LISTEN"].startswith("0.0.0.0:"), "Deployment: listens on every interface")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check(ports.get("grpc") == listen and ports.get("metrics") == metrics, f"Deployment: container ports {ports} are the served ports")
    services = [f"emqx.exhook.{v}.HookProvider" for v in ("v1", "v2", "v3")]
    for probe in ("livenessProbe", "readinessProbe"):
        grpc = container[probe].get("grpc", {})
        check(grpc.get("port") == listen, f"Deployment: {probe} uses gRPC health on the listen port {listen}")
        check(grpc.get("service", "") in [""] + services, f"Deployment: {probe} asks about a service the server reports")
    resources = container["resources"]
    check("cpu" in resources["requests"] and "memory" in resources["limits"], "Deployment: resources set")
    drain = int(re.search(r"DEFAULT_DRAIN: Duration = Duration::from_secs\((\d+)\)", source("exhook-runtime/src/server.rs")).group(1))
    check(pod["spec"]["terminationGracePeriodSeconds"] > drain, f"Deployment: grace period above the drain time ({drain} s)")
    security = pod["spec"]["securityContext"]
    check(security.get("runAsNonRoot") is True and security.get("runAsUser") == dockerfile_user, "Deployment: runs as the image's non-root user")
    annotations = pod["metadata"].get("annotations", {})
    check(annotations.get("prometheus.io/scrape") == "true" and int(annotations.get("prometheus.io/port", 0)) == metrics
          and annotations.get("prometheus.io/path") == "/metrics", "Deployment: scrape annotations name the metrics port")
    for selector in (deployment["spec"]["selector"]["matchLabels"], service["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        check(all(labels.get(k) == v for k, v in selector.items()), f"selector {selector} matches the pods")
    for port in service["spec"]["ports"]:
        target = port["targetPort"]
        check(target in ports or target in ports.values(), f"Service: targetPort {target} is a container port")
    check(any(ports.get(p["targetPort"]) == listen for p in service["spec"]["ports"] if isinstance(p["targetPort"], str)),
          "Service: exposes the gRPC port for EMQX's url")
    check(pdb["spec"].get("minAvailable", 0) >= 1 and pdb["spec"].get("minAvailable") < deployment["spec"]["replicas"],
          "PodDisruptionBudget: keeps one replica and lets one go")
    readiness = container["readinessProbe"]["grpc"].get("service", "")
    return env, listen, metrics, readiness


def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def spare_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live(provider, exhook, env, listen, metrics, readiness):
    # The Deployment's ports, on loopback; others where a shared machine
    # already uses them (the relation between the ports is what is checked).
    if not (free(listen) and free(metrics)):
        listen, metrics = spare_port(), spare_port()
    environment = dict(os.environ, **env)
    environment["EXHOOK_LISTEN"] = f"127.0.0.1:{listen}"
    environment["EXHOOK_METRICS_LISTEN"] = f"127.0.0.1:{metrics}"
    process = subprocess.Popen([provider], env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{listen}"
        for _ in range(100):
            if subprocess.run([exhook, "probe", "--health-only", url, "--timeout", "1s"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        for service in ("", readiness):
            probe = subprocess.run([exhook, "probe", "--health-only", "--service", service, url], capture_output=True, text=True)
            check(probe.returncode == 0, f"provider: gRPC health of {service!r} on the probed port: {probe.stdout}{probe.stderr}")
        # Traffic, so that the labelled series exist.
        result = subprocess.run([exhook, "check", url, "--json"], capture_output=True, text=True)
        check(result.returncode == 0, f"provider: exhook check is clean: {result.stdout[-2000:]}")
        scrape = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5).read().decode()
    finally:
        process.terminate()
        process.wait(timeout=10)
    return scrape


def series(scrape):
    """Sample name -> the label names it carries."""
    found = {}
    for line in scrape.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        labels = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)=", match.group(3) or ""))
        found.setdefault(match.group(1), set()).update(labels)
    return found


def dashboard(scrape):
    board = json.loads(source("deploy/grafana/exhook.json"))
    exported = series(scrape)
    outcomes = set(re.findall(r'\("(\w+)", Outcome::', source("exhook-runtime/src/metrics.rs")))
    target_labels = {"instance", "job"}  # added by Prometheus to every scraped series
    titles = " ".join(p["title"].lower() for p in board["panels"])
    for topic in ("calls per second", "outcomes", "p50", "p99", "in flight", "panics"):
        check(topic in titles, f"dashboard: a panel for {topic}")
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            names = re.findall(r"\bexhook_[a-z_]+\b", expr)
            check(names, f"dashboard: {panel['title']} queries exhook metrics")
            for name in names:
                check(name in exported, f"dashboard: {name} ({panel['title']}) is exported")
                labels = exported.get(name, set()) | target_labels
                for group in re.findall(r"by \(([^)]*)\)", expr):
                    for label in group.split(","):
                        check(label.strip() in labels, f"dashboard: {name} has label {label.strip()} ({panel['title']})")
                for label, value in re.findall(r'(\w+)=~?"([^"]*)"', expr):
                    check(label in labels, f"dashboard: {name} has label {label}")
                    if label == "outcome":
                        for alternative in value.split("|"):
                            check(alternative in outcomes, f"dashboard: outcome {alternative} is one the server counts")


def main():
    provider, exhook = sys.argv[1], sys.argv[2]
    user = dockerfile()
    docs = manifests()
    env, listen, metrics, readiness = deployment_ports(docs, user)
    scrape = live(provider, exhook, env, listen, metrics, readiness)
    dashboard(scrape)
    print(f"deployment: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
